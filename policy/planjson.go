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
	pw.array(len(p.Packages), "    ", func(k int) { pw.pkg(&p.Packages[k]) })
	pw.str(",\n  \"policy\": ")
	pw.value(p.Policy, "  ")
	pw.str(",\n  \"started_at\": ")
	pw.value(p.StartedAt, "  ")
	pw.str(",\n  \"dry_run\": ")
	pw.value(p.DryRun, "  ")
	pw.str("\n}\n")
	return pw.err
}

// packageHead encodes a PackagePlan without its versions: its nil
// Versions, omitted, hides the embedded one (a field of the outer struct
// wins over a promoted field of the same name).
type packageHead struct {
	*PackagePlan
	Versions []VersionPlan `json:"versions,omitempty"`
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

// array writes n items as a JSON array, each on its own line at indent
// (written by item), the closing bracket one level out; "[]" when empty.
func (pw *planWriter) array(n int, indent string, item func(i int)) {
	if n == 0 {
		pw.str("[]")
		return
	}
	open := "\n" + indent
	pw.str("[")
	for i := range n {
		if i > 0 {
			pw.str(",")
		}
		pw.str(open)
		item(i)
	}
	pw.str(open[:len(open)-2] + "]")
}

func (pw *planWriter) pkg(pp *PackagePlan) {
	head := pw.encode(packageHead{PackagePlan: pp}, "    ")
	// Reopen the head's object to add the versions as its last field.
	head = bytes.TrimSuffix(head, []byte("\n    }"))
	if pw.err == nil {
		_, pw.err = pw.w.Write(head)
	}
	pw.str(",\n      \"versions\": ")
	pw.array(len(pp.Versions), "        ", func(i int) {
		v := pp.Versions[i]
		if v.Tags == nil {
			v.Tags = []string{}
		}
		pw.value(v, "        ")
	})
	pw.str("\n    }")
}
