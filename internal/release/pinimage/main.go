// Command pinimage makes action.yml run a released image, pinned by digest:
// it sets runs.image to docker://IMAGE@DIGEST and changes nothing else.
// The release workflow runs it on the commit that the version tags point
// at; main keeps `image: Dockerfile`.
//
//	go run ./internal/release/pinimage -image ghcr.io/owner/repo -digest sha256:… [action.yml]
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/pkgretention/retention/internal/release"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run rewrites the file named in args (default action.yml) and prints the
// new runs.image; 2 for bad arguments, 1 when the file cannot be rewritten.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pinimage", flag.ContinueOnError)
	fs.SetOutput(stderr)
	image := fs.String("image", "", "repository of the pushed image, e.g. ghcr.io/owner/repo")
	digest := fs.String("digest", "", "digest of the pushed image (index), sha256:…")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 1 {
		fmt.Fprintln(stderr, "pinimage: at most one file")
		return 2
	}
	path := "action.yml"
	if fs.NArg() == 1 {
		path = fs.Arg(0)
	}
	ref, err := release.ImageRef(*image, *digest)
	if err != nil {
		fmt.Fprintf(stderr, "pinimage: %v\n", err)
		return 2
	}
	info, err := os.Stat(path)
	if err != nil {
		fmt.Fprintf(stderr, "pinimage: %v\n", err)
		return 1
	}
	old, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(stderr, "pinimage: %v\n", err)
		return 1
	}
	pinned, err := release.PinImage(old, ref)
	if err != nil {
		fmt.Fprintf(stderr, "pinimage: %s: %v\n", path, err)
		return 1
	}
	if err := os.WriteFile(path, pinned, info.Mode().Perm()); err != nil {
		fmt.Fprintf(stderr, "pinimage: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: runs.image: %s\n", path, ref)
	return 0
}
