package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ferry-data/ferry/schemas"
)

// exportSchemas writes every canonical schema as <entity>.avsc, and its
// earlier versions as <entity>.v<n>.avsc, into dir, for consumers that
// read single-object encoding or generate classes.
func exportSchemas(dir string, out io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("schemas export: %w", err)
	}
	for _, name := range schemas.Names() {
		s, err := schemas.Load(name)
		if err != nil {
			return err
		}
		files := map[string]string{name + ".avsc": s.Text()}
		for i, text := range s.Earlier() {
			files[fmt.Sprintf("%s.v%d.avsc", name, i+1)] = text
		}
		for file, text := range files {
			if err := os.WriteFile(filepath.Join(dir, file), []byte(text), 0o644); err != nil {
				return fmt.Errorf("schemas export: %w", err)
			}
		}
		fp := s.Fingerprint()
		fmt.Fprintf(out, "%s.avsc\tfingerprint %x\t%d earlier versions\n", name, fp, len(s.Earlier()))
	}
	return nil
}
