package main

import (
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/sys/unix"

	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/termsafe"
)

// progress reports device results as they finish: a bar on a terminal,
// one plain line per device otherwise (CI logs).
type progress struct {
	mu   sync.Mutex
	w    io.Writer
	bars *mpb.Progress
	bar  *mpb.Bar
}

func newProgress(w io.Writer, total int, verb string) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok && isTerminal(f) && total > 1 {
		p.bars = mpb.New(mpb.WithOutput(w), mpb.WithWidth(40))
		p.bar = p.bars.AddBar(int64(total),
			mpb.PrependDecorators(decor.Name(verb+" "), decor.CountersNoUnit("%d/%d")),
			mpb.AppendDecorators(decor.Percentage(), decor.Name(" "), decor.Elapsed(decor.ET_STYLE_GO)))
	}
	return p
}

func (p *progress) Started(string) {}

func (p *progress) Finished(r engine.Result) {
	if p.bar != nil {
		p.bar.Increment()
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	line := fmt.Sprintf("%-12s %s (%s)", r.Status, termsafe.Line(r.Host), r.Duration.Round(1e6))
	if r.Error != "" {
		line += ": " + termsafe.Line(r.Error)
	}
	fmt.Fprintln(p.w, line)
}

func (p *progress) done() {
	if p.bars != nil {
		p.bars.Wait()
	}
}

// isTerminal asks the tty driver: /dev/null is a character device too, and
// a CI job with stdin from /dev/null must never be prompted.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
