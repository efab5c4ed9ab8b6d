package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ntedsl/ntedsl/runtime"
)

// view renders run events; the runtime never prints.
type view interface {
	Observe(runtime.Event)
	Close()
}

// jsonView writes every event as one JSON line.
type jsonView struct{ enc *json.Encoder }

func newJSONView(w io.Writer) *jsonView      { return &jsonView{enc: json.NewEncoder(w)} }
func (v *jsonView) Observe(ev runtime.Event) { _ = v.enc.Encode(ev) }
func (v *jsonView) Close()                   {}

// logView writes one plain line per noteworthy event, for logs and pipes.
type logView struct {
	w           io.Writer
	total, done int
}

func newLogView(w io.Writer) *logView { return &logView{w: w} }

func (v *logView) Observe(ev runtime.Event) {
	at := fmtDuration(ev.Elapsed)
	switch ev.Kind {
	case runtime.RunStart:
		v.total = ev.Total
		fmt.Fprintf(v.w, "%s start   %d node instances\n", at, ev.Total)
	case runtime.NodeStart:
		fmt.Fprintf(v.w, "%s run     %s\n", at, ev.Addr)
	case runtime.NodeDone:
		v.done++
		if ev.Message == "cheap" {
			return
		}
		fmt.Fprintf(v.w, "%s done    %s (%s) [%d/%d]\n", at, ev.Addr, fmtDuration(ev.Seconds), v.done, v.total)
	case runtime.NodeCached:
		v.done++
		fmt.Fprintf(v.w, "%s cached  %s [%d/%d]\n", at, ev.Addr, v.done, v.total)
	case runtime.NodeFailed:
		v.done++
		if errors.Is(ev.Err, context.Canceled) {
			fmt.Fprintf(v.w, "%s stopped %s (interrupted)\n", at, ev.Addr)
			return
		}
		fmt.Fprintf(v.w, "%s FAILED  %s: %s\n", at, ev.Addr, firstLine(ev.Error))
	case runtime.NodeSkipped:
		v.done++
		fmt.Fprintf(v.w, "%s skipped %s: %s\n", at, ev.Addr, ev.Message)
	case runtime.Warning:
		fmt.Fprintf(v.w, "%s warning %s %s\n", at, ev.Addr, ev.Message)
	case runtime.RunDone:
		fmt.Fprintf(v.w, "%s end     %s\n", at, ev.Message)
	}
}

func (v *logView) Close() {}

// liveView keeps one status line on a terminal: nodes done/total, the running nodes with
// their internal progress, and the elapsed time. Finished nodes scroll above it.
type liveView struct {
	mu      sync.Mutex
	w       io.Writer
	width   int
	total   int
	done    int
	start   time.Time
	running map[string]string
	last    time.Time
	stop    chan struct{}
	wg      sync.WaitGroup
}

func newLiveView(w io.Writer, width uint) *liveView {
	v := &liveView{w: w, width: int(width), running: map[string]string{}, start: time.Now(), stop: make(chan struct{})}
	v.wg.Add(1)
	go func() {
		defer v.wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-v.stop:
				return
			case <-t.C:
				v.mu.Lock()
				v.draw()
				v.mu.Unlock()
			}
		}
	}()
	return v
}

func (v *liveView) println(format string, args ...any) {
	fmt.Fprintf(v.w, "\r\033[K"+format+"\n", args...)
}

func (v *liveView) Observe(ev runtime.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	switch ev.Kind {
	case runtime.RunStart:
		v.total = ev.Total
	case runtime.NodeStart:
		v.running[ev.Addr] = ""
	case runtime.NodeProgress:
		if _, ok := v.running[ev.Addr]; ok {
			v.running[ev.Addr] = fmt.Sprintf(" %d/%d", ev.Done, ev.Total)
		}
	case runtime.NodeDone:
		v.done++
		delete(v.running, ev.Addr)
		if ev.Message != "cheap" {
			v.println("  done    %s (%s)", ev.Addr, fmtDuration(ev.Seconds))
		}
	case runtime.NodeCached:
		v.done++
	case runtime.NodeFailed:
		v.done++
		delete(v.running, ev.Addr)
		if errors.Is(ev.Err, context.Canceled) {
			v.println("  stopped %s (interrupted)", ev.Addr)
			return
		}
		v.println("  FAILED  %s: %s", ev.Addr, firstLine(ev.Error))
	case runtime.NodeSkipped:
		v.done++
		v.println("  skipped %s: %s", ev.Addr, ev.Message)
	case runtime.Warning:
		v.println("  warning %s %s", ev.Addr, ev.Message)
	case runtime.RunDone:
		v.println("  %s in %s", ev.Message, fmtDuration(ev.Elapsed))
		return
	}
	if time.Since(v.last) > 100*time.Millisecond {
		v.draw()
	}
}

func (v *liveView) draw() {
	v.last = time.Now()
	names := make([]string, 0, len(v.running))
	for a, p := range v.running {
		names = append(names, a+p)
	}
	sort.Strings(names)
	line := fmt.Sprintf("[%d/%d] %s", v.done, v.total, fmtDuration(time.Since(v.start).Seconds()))
	if len(names) > 0 {
		line += fmt.Sprintf("  running %d: %s", len(names), strings.Join(names, ", "))
	}
	if v.width > 4 && len(line) > v.width-1 {
		line = line[:v.width-2] + "…"
	}
	fmt.Fprintf(v.w, "\r\033[K%s", line)
}

func (v *liveView) Close() {
	close(v.stop)
	v.wg.Wait()
	fmt.Fprint(v.w, "\r\033[K")
}

func fmtDuration(sec float64) string {
	switch {
	case sec < 1:
		return fmt.Sprintf("%.0fms", sec*1000)
	case sec < 60:
		return fmt.Sprintf("%.1fs", sec)
	}
	d := time.Duration(sec * float64(time.Second)).Round(time.Second)
	return d.String()
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}
