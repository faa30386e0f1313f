package policy

import (
	"bytes"
	"encoding/json"
	"io"
)

// WriteJSON writes the plan file to w: the same bytes as JSON returns, but
// encoded one version at a time, so that writing a plan of 100,000
// versions needs memory for one version, not for the whole file twice.
func (p *Plan) WriteJSON(w io.Writer) error {
	pw := &planWriter{w: w}
	pw.str("{\n  \"packages\": ")
	if len(p.Packages) == 0 {
		pw.str("[]")
	} else {
		pw.str("[")
		for k := range p.Packages {
			if k > 0 {
				pw.str(",")
			}
			pw.str("\n    ")
			pw.pkg(&p.Packages[k])
		}
		pw.str("\n  ]")
	}
	pw.str(",\n  \"policy\": ")
	pw.value(p.Policy, "  ")
	pw.str(",\n  \"started_at\": ")
	pw.value(p.StartedAt, "  ")
	pw.str(",\n  \"dry_run\": ")
	pw.value(p.DryRun, "  ")
	pw.str("\n}\n")
	return pw.err
}

// packageHead is a PackagePlan without its versions.
type packageHead struct {
	Owner      string      `json:"owner"`
	Type       PackageType `json:"type"`
	Name       string      `json:"name"`
	Visibility string      `json:"visibility"`
	Complete   bool        `json:"complete"`
	Error      string      `json:"error,omitempty"`
	Deferred   bool        `json:"deferred,omitempty"`
	Unresolved bool        `json:"unresolved,omitempty"`
}

// planWriter writes JSON pieces indented as json.Encoder's SetIndent("",
// "  ") would write the whole plan, remembering the first error.
type planWriter struct {
	w   io.Writer
	err error
	buf bytes.Buffer
}

func (pw *planWriter) str(s string) {
	if pw.err == nil {
		_, pw.err = io.WriteString(pw.w, s)
	}
}

// encode returns v's indented encoding at the given prefix, without HTML
// escaping and without the encoder's final newline.
func (pw *planWriter) encode(v any, prefix string) []byte {
	pw.buf.Reset()
	enc := json.NewEncoder(&pw.buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, "  ")
	if err := enc.Encode(v); err != nil && pw.err == nil {
		pw.err = err
	}
	return bytes.TrimSuffix(pw.buf.Bytes(), []byte("\n"))
}

func (pw *planWriter) value(v any, prefix string) {
	b := pw.encode(v, prefix)
	if pw.err == nil {
		_, pw.err = pw.w.Write(b)
	}
}

func (pw *planWriter) pkg(pp *PackagePlan) {
	head := pw.encode(packageHead{pp.Owner, pp.Type, pp.Name, pp.Visibility, pp.Complete, pp.Error, pp.Deferred, pp.Unresolved}, "    ")
	// Reopen the head's object to add the versions as its last field.
	head = bytes.TrimSuffix(head, []byte("\n    }"))
	if pw.err == nil {
		_, pw.err = pw.w.Write(head)
	}
	pw.str(",\n      \"versions\": ")
	if len(pp.Versions) == 0 {
		pw.str("[]")
	} else {
		pw.str("[")
		for i := range pp.Versions {
			if i > 0 {
				pw.str(",")
			}
			pw.str("\n        ")
			v := pp.Versions[i]
			if v.Tags == nil {
				v.Tags = []string{}
			}
			pw.value(v, "        ")
		}
		pw.str("\n      ]")
	}
	pw.str("\n    }")
}
