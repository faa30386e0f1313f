// Package policy turns the retention inputs into a validated Policy (Parse)
// and a package's versions into a deletion plan (Build). It is pure: no
// network, no files, no clock (now is an argument), no mutable globals.
//
// # Inputs
//
// Parse reads the inputs of policy.md and reports every problem at once
// (errors.Join), each message starting with the input's name. Lists
// (packages, delete-tags, keep-tags) are separated by commas or newlines,
// see ParsePatterns; patterns are described at Pattern, ranges at Range,
// durations at ParseDuration. keep-latest and max-deletions are whole
// numbers, 0 or more (max-deletions 0: no cap). dry-run is true or false in
// any letter case. package-type, tag-state and age-basis are accepted in any
// letter case. tag-state tagged or untagged is an error for types other than
// container. A policy file is YAML with the single key rules; unknown keys,
// duplicate keys and further YAML documents are errors, and messages name
// the rule by its index from 0 ("rules[1].older-than: ...").
//
// # Labels
//
// Patterns and ranges match a version's labels: a container version's tags
// except attachment tags (IsAttachmentTag), any other version's name. A
// container version is tagged when it has a label; an orphan signature (only
// attachment tags, subject gone) is untagged. A pattern starting with
// sha256: matches a container version's digest instead.
//
// # Order
//
// "Newest first" is by timestamp descending, ties by id descending. The
// plan, keep-latest of an age-basis updated rule, the guards and
// max-deletions use updated_at (created_at where updated_at is unknown);
// keep-latest and older-than of an age-basis created rule use created_at.
//
// # Evaluation of one package
//
// Containers: Structure.Parents says which versions reference which
// (parents whose id is not among the versions are ignored: the child is an
// orphan). A version is judged on its own when it is a root (no parents);
// a member (a version with parents) follows its parents and takes no
// keep-latest place. A member with a tag of its own (a platform image
// tagged v1-amd64 in the manifest list v1) goes with its parents only if
// some rule also selects it by its own tags and finds it old enough, so a
// rule for untagged images never takes a tag away. Every other type has no
// structure: each version is judged.
//
// For each rule covering the package, on the judged versions:
//
//  1. selection: tag-state, delete-tags and delete-semver must all match
//     when given (none given: everything is selected);
//  2. keep-latest: the N newest selected versions are kept (keep-latest);
//  3. age: a selected version not older than older-than gets no opinion
//     from the rule (younger-than);
//  4. keep wins: a version of the package, judged or not, with a label
//     matching keep-tags or keep-semver is kept (keep-tags:<pattern>,
//     keep-semver:<range>, first pattern that matches); this reason takes
//     precedence over keep-latest, and a version so kept still counts
//     towards keep-latest's N;
//  5. otherwise a selected version is deleted by the rule and an
//     unselected one gets no opinion (not-selected).
//
// Across rules: a version some rule keeps is kept with the reason of the
// first rule (in file order) that keeps it; otherwise a version some rule
// deletes is deleted (reason selected); otherwise it is kept with the
// closest reason, younger-than before not-selected.
//
// Then, parents before children: a version is deleted only if its own
// verdict (when judged) is delete and every parent is deleted; a version
// kept because of a parent has the reason child-of:<digest of its newest
// kept parent>, and a deleted pure child child-of:<digest of its newest
// parent>. Cycles of parents (impossible with content addressing) are
// guarded: a member of a cycle is never deleted (kept as child-of another
// member), and the order is computed without the cycle's own edges.
//
// # Fail closed, guards
//
//   - A version in Structure.Unreadable is kept (manifest-unreadable). As its
//     children are unknown, and any version, tagged or not, may be one of
//     them, no version of the package is deleted: every version that would
//     be is kept with the same reason. The next run reads it again.
//   - A version in PackageInput.Protected that would be deleted is
//     protected (download-rule); its children are kept (child-of).
//   - Containers: GitHub refuses to delete the last tagged version, any tag
//     counting, attachment tags included. If the package has tagged versions
//     and every one would be deleted, the newest tagged root (or, if every
//     tagged version is a child, the root above the newest one) is protected
//     (last-version) with its members kept (child-of). If every version would
//     be deleted, the newest root is protected likewise. Every other type:
//     if every version would be deleted, the newest is protected
//     (last-version).
//   - An incomplete package (listing failed) is in the plan with no version
//     decided.
//
// # max-deletions
//
// Applied by Build across all packages after the guards. Deletions go in
// groups (Groups): a root and the members deleted with it count as one
// deletion each. Groups are taken oldest first (root's updated_at, then id)
// while they fit in what is left of the cap; the first group that does not
// fit and every later one are deferred: kept, reason max-deletions. An image
// is never split: when the oldest group alone is larger than the cap, it is
// deleted whole and nothing else, so that a run always progresses.
package policy
