package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/ferry-data/ferry/flows"
)

// errNotLoading says an imported flow was written but does not load yet;
// the report said why.
var errNotLoading = errors.New("the imported flow does not load yet")

// importFlow turns a seed-platform scheme into a flow file and reports what
// the import changed, what the loader notes, and which of the vendor's
// rules ferry will follow over the seed's metadata.
func importFlow(cfg Config, stdout io.Writer) error {
	data, err := os.ReadFile(cfg.Import)
	if err != nil {
		return fmt.Errorf("flow import: %w", err)
	}
	out, report := cfg.ImportOut, io.Writer(stdout)
	if out == "" {
		report = stderr{}
	}
	im, err := flows.Import(cfg.Import, orStdout(out), data, table.flows())
	if err != nil {
		return err
	}
	if out == "" {
		_, err = stdout.Write(im.YAML)
	} else {
		err = os.WriteFile(out, im.YAML, 0o644)
	}
	if err != nil {
		return fmt.Errorf("flow import: %w", err)
	}
	fmt.Fprintf(report, "flow %s from %s, written to %s\n", im.Name, cfg.Import, orStdout(out))
	fmt.Fprintln(report, "\nwhat the import added or changed:")
	for _, c := range im.Changes {
		fmt.Fprintf(report, "  line %d: %s: %s\n", c.Line, c.Path, c.Text)
	}
	if im.Err != nil {
		fmt.Fprintf(report, "\n%v:\n  %v\n", errNotLoading, im.Err)
		return errNotLoading
	}
	fmt.Fprintln(report, "\nwhat the loader notes:")
	for _, n := range im.Flow.Notes {
		fmt.Fprintf(report, "  line %d: %s: %s\n", n.Line, n.Path, n.Text)
	}
	fmt.Fprintln(report, "\nthe vendor's rules ferry follows at start:")
	return vendorRules(im.Flow, report)
}

// vendorRules binds the flow to its vendor's connector, as ferry producer
// does, which logs where the vendor's rules win over the flow's metadata
// (page sizes and bases, method names, zones) and refuses what the vendor
// cannot serve (window limits). No call is made.
func vendorRules(f *flows.Flow, w io.Writer) error {
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.Attr{}
		}
		return a
	}}))
	if err := checkSource(table, f, log); err != nil {
		fmt.Fprintf(w, "\n%v:\n  %v\n", errNotLoading, err)
		return errNotLoading
	}
	return nil
}

func orStdout(path string) string {
	if path == "" {
		return "<stdout>"
	}
	return path
}
