package runtime

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/ntedsl/ntedsl/nodes"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// ManifestName is the file in the output folder that says which node instance wrote each
// result file, from which cache entry, with which bytes.
const ManifestName = "manifest.json"

const manifestSchema = "ntedsl/manifest/v1"

// manifest lists the result files of the last run. It holds nothing that depends on
// scheduling, timing or whether a value came from the cache, so the same study gives the
// same manifest whatever -j and whatever was cached.
type manifest struct {
	Schema string `json:"schema"`
	Study  string `json:"study"`
	File   string `json:"file"` // the study file's name (no folder, so the bytes do not depend on where it lives)
	// Seed and Variables are the study's seed and the values its variables had in this run
	// (after -var and -var-file), so the folder says how it was made.
	Seed      string                     `json:"seed"`
	Variables map[string]json.RawMessage `json:"variables,omitempty"`
	Files     []manifestFile             `json:"files"` // sorted by name
}

type manifestFile struct {
	Name   string `json:"name"`
	Node   string `json:"node"`
	Key    string `json:"key"`    // the cache key of the value the file was written from
	SHA256 string `json:"sha256"` // of the file's bytes
	// Stale marks a file of an earlier run, kept because its node did not finish in this
	// one (it failed, was skipped or interrupted): it does not reflect the current study.
	Stale bool `json:"stale,omitempty"`
}

// fileSHA256 is the hex SHA-256 of a result file, as sha256sum prints it.
func fileSHA256(data []byte) string {
	return strings.TrimPrefix(nodes.ContentDigest(data), "sha256:")
}

func readManifest(dir string) (*manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil || m.Schema != manifestSchema {
		return nil, errors.New(ManifestName + " is not an ntedsl manifest")
	}
	return &m, nil
}

// settleOutputs writes the manifest of this run and reconciles the output folder with the
// previous run's manifest. A file the previous run wrote and this run did not is removed
// when its node finished in this run (its outputs changed, e.g. an arm was dropped) or no
// longer exists in the study — provided the file still holds the bytes ntedsl wrote, so a
// file a user edited is never deleted. A file whose node did not finish stays, marked stale.
// Only files named in ntedsl's own manifest are ever removed.
func (rs *runState) settleOutputs(res *Result) {
	dir := rs.e.OutDir
	if dir == "" {
		return
	}
	old, err := readManifest(dir)
	if err != nil {
		rs.emit(Event{Kind: Warning, Message: "output folder " + dir + ": " + err.Error() + "; no earlier result file is removed"})
		old = nil
	}
	file := filepath.Base(rs.st.Path)
	if old != nil && (old.Study != rs.st.Name || (old.File != "" && old.File != file)) { // "": written before file was recorded
		rs.emit(Event{Kind: Warning, Message: "output folder " + dir + " held the results of study " + old.Study + " (" + old.File + "); its files are left as they are"})
		old = nil
	}
	if old == nil && len(rs.files) == 0 {
		return
	}
	m := manifest{Schema: manifestSchema, Study: rs.st.Name, File: file, Seed: strconv.FormatUint(rs.st.Seed, 10),
		Variables: map[string]json.RawMessage{}, Files: append([]manifestFile(nil), rs.files...)}
	for name, v := range rs.st.Variables {
		if b, err := ctyjson.Marshal(v, v.Type()); err == nil {
			m.Variables[name] = b
		}
	}
	written := map[string]bool{}
	for _, f := range rs.files {
		written[f.Name] = true
	}
	inStudy := map[string]bool{}
	for _, in := range rs.st.Instances {
		inStudy[in.Addr] = true
	}
	if old != nil {
		for _, f := range old.Files {
			if written[f.Name] || filepath.Base(f.Name) != f.Name {
				continue // rewritten, or not a plain file name (never act outside dir)
			}
			path := filepath.Join(dir, f.Name)
			data, err := os.ReadFile(path)
			if err != nil {
				continue // already gone
			}
			// A node whose files could not all be written counts as unfinished here, so
			// its earlier files are kept rather than taken for outdated.
			finished := res.Values[f.Node] != nil && !rs.unwritten[f.Node]
			switch {
			case inStudy[f.Node] && !finished:
				f.Stale = true
				m.Files = append(m.Files, f)
				res.Stale = append(res.Stale, f.Name)
				if !slices.Contains(res.StaleNodes, f.Node) {
					res.StaleNodes = append(res.StaleNodes, f.Node)
				}
			case fileSHA256(data) != f.SHA256:
				rs.emit(Event{Kind: Warning, Message: "kept " + path + ": it was changed after ntedsl wrote it, and " + f.Node + " no longer writes it"})
			default:
				if err := os.Remove(path); err != nil {
					rs.emit(Event{Kind: Warning, Message: "could not remove the outdated " + path + ": " + err.Error()})
					continue
				}
				res.Removed = append(res.Removed, f.Name)
			}
		}
	}
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Name < m.Files[j].Name })
	sort.Strings(res.Stale)
	sort.Strings(res.StaleNodes)
	sort.Strings(res.Removed)
	b, err := json.MarshalIndent(m, "", "  ")
	if err == nil {
		err = writeAtomic(filepath.Join(dir, ManifestName), append(b, '\n'))
	}
	if err != nil {
		rs.emit(Event{Kind: Warning, Message: "could not write " + ManifestName + ": " + err.Error()})
	}
}
