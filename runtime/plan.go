package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/ntedsl/ntedsl/lang"
	"github.com/ntedsl/ntedsl/nodes"
)

// PlanEntry says what a run would do with one instance, and why.
type PlanEntry struct {
	Addr    string   `json:"addr"`
	Kind    string   `json:"kind"`
	Status  string   `json:"status"` // "cached", "run", "pending", "cheap"
	Reasons []string `json:"reasons,omitempty"`
	Key     string   `json:"key,omitempty"`
}

// Plan reports, per instance, whether a run would serve it from the cache or compute it,
// and why. An instance whose inputs must be computed first is "pending": it may still hit
// the cache if its inputs come out unchanged. Cheap instances (model specifications) are
// computed here, since their digests are needed to key what uses them.
func (e *Engine) Plan(ctx context.Context, st *lang.Study) ([]PlanEntry, error) {
	digests := map[string]string{}
	last := e.Cache.lastRuns(st.Path)
	var out []PlanEntry
	for _, in := range st.Instances {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		kind, _ := e.Registry.Kind(in.Block.Kind.Name)
		pe := PlanEntry{Addr: in.Addr, Kind: kind.Name}
		var waitFor []string
		for _, r := range in.Refs {
			if _, ok := digests[r.Addr]; !ok && !contains(waitFor, r.Addr) {
				waitFor = append(waitFor, r.Addr)
			}
		}
		if len(waitFor) > 0 {
			pe.Status = "pending"
			why := "input " + waitFor[0] + " runs first; this may still come from the cache if its output is unchanged"
			if len(waitFor) > 1 {
				why = "inputs " + strings.Join(waitFor, ", ") + " run first; this may still come from the cache if their outputs are unchanged"
			}
			pe.Reasons = []string{why}
			out = append(out, pe)
			continue
		}
		ki := keyOf(st, in, kind, digests)
		pe.Key = ki.key
		if kind.Volatile {
			rs := &runState{e: e, st: st, ctx: ctx, sem: make(chan struct{}, 1)}
			inputs := map[string]nodes.Value{}
			v, err := rs.compute(in, kind, inputs)
			if err != nil {
				return out, fmt.Errorf("%s: %w", in.Addr, err)
			}
			data, err := v.MarshalBinary()
			if err != nil {
				return out, err
			}
			digests[in.Addr] = Digest(v.TypeName(), data)
			pe.Status = "cheap"
			pe.Reasons = []string{"computed on every run (a model specification)"}
			out = append(out, pe)
			continue
		}
		if rec, ok := e.Cache.Has(ki.key); ok {
			digests[in.Addr] = rec.Digest
			pe.Status = "cached"
			out = append(out, pe)
			continue
		}
		pe.Status = "run"
		pe.Reasons = whyRun(last, in, ki)
		out = append(out, pe)
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// whyRun compares an instance's key pre-image with the one of its last run.
func whyRun(runs map[string]addrRecord, in *lang.Instance, ki keyInfo) []string {
	last, ok := runs[in.Addr]
	if !ok {
		return []string{"not cached yet"}
	}
	if last.Key == ki.key {
		return []string{"cache entry missing (cleared or collected)"}
	}
	var old, cur preimage
	if json.Unmarshal(last.Preimage, &old) != nil || json.Unmarshal(ki.preimage, &cur) != nil {
		return []string{"not cached yet"}
	}
	var reasons []string
	if old.Schema != cur.Schema {
		reasons = append(reasons, "cache key format changed")
	}
	if old.Kind != cur.Kind {
		reasons = append(reasons, fmt.Sprintf("kind changed %s→%s", old.Kind, cur.Kind))
	} else if old.Version != cur.Version {
		reasons = append(reasons, fmt.Sprintf("kind version changed %d→%d", old.Version, cur.Version))
	}
	if old.StudySeed != cur.StudySeed && cur.StudySeed != "" {
		reasons = append(reasons, fmt.Sprintf("study seed changed %s→%s", old.StudySeed, cur.StudySeed))
	}
	// A file that is read under a new name shows as a configuration change below.
	var files []string
	for name, d := range cur.Sources {
		if od, had := old.Sources[name]; had && od != d {
			files = append(files, "file "+name+" changed")
		}
	}
	sort.Strings(files)
	reasons = append(reasons, files...)
	var oc, cc any
	_ = json.Unmarshal(old.Config, &oc)
	_ = json.Unmarshal(cur.Config, &cc)
	var changes []string
	diffJSON("", oc, cc, &changes)
	sort.Strings(changes)
	reasons = append(reasons, changes...)
	var inputs []string
	for addr, d := range ki.inputs {
		switch od, had := last.Inputs[addr]; {
		case !had:
			inputs = append(inputs, "input "+addr+" is new")
		case od != d:
			inputs = append(inputs, "input "+addr+" changed")
		}
	}
	sort.Strings(inputs)
	reasons = append(reasons, inputs...)
	if len(reasons) == 0 {
		reasons = []string{"configuration changed"}
	}
	return reasons
}

func isDigest(v any) bool {
	s, ok := v.(string)
	return ok && strings.HasPrefix(s, "sha256:")
}

// diffJSON lists the leaves that differ between two canonical configurations, as
// `path old→new`; references (content digests) are reported as input changes instead.
func diffJSON(path string, a, b any, out *[]string) {
	if isDigest(a) && isDigest(b) {
		return
	}
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		if _, isRef := bm["digest"]; isRef {
			if am["addr"] != bm["addr"] {
				*out = append(*out, fmt.Sprintf("%s %v→%v", path, am["addr"], bm["addr"]))
			}
			return
		}
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		for k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			diffJSON(p, am[k], bm[k], out)
		}
		return
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		*out = append(*out, fmt.Sprintf("%s %s→%s", path, ja, jb))
	}
}
