// write_report: writes the nightly report into a granted read-write
// directory (see ../../README.md).
package main

import (
	"errors"
	"io/fs"
	"os"
	"strings"

	"ottermq.dev/examples/handlers/handler"
)

type written struct {
	Path  string `json:"path"`
	Bytes int    `json:"bytes"`
}

func handle(input []byte) (any, error) {
	value, err := handler.Parse(input)
	if err != nil {
		return nil, err
	}
	in, ok := value.(map[string]any)
	if !ok {
		return nil, handler.Permanent("input must be a JSON object")
	}
	date, ok := handler.Date(in["date"])
	if !ok {
		return nil, handler.Permanent("date must be a YYYY-MM-DD calendar date")
	}
	lines, ok := in["lines"].([]any)
	if !ok {
		return nil, handler.Permanent("lines must be an array")
	}
	var text strings.Builder
	for i, item := range lines {
		line, ok := item.(string)
		if !ok {
			return nil, handler.Permanent("line %d: must be a string", i+1)
		}
		if strings.ContainsAny(line, "\r\n") {
			return nil, handler.Permanent("line %d: must not contain a line break", i+1)
		}
		text.WriteString(line)
		text.WriteByte('\n')
	}
	path, ok := handler.FilePath(in, "/reports", "report-"+date+".txt")
	if !ok {
		return nil, handler.Permanent("dir must be an absolute path")
	}

	// Not granted, granted read-only, or a full disk: an operator can fix
	// each of them, so the task is retried rather than dead-lettered.
	if err := os.WriteFile(path, []byte(text.String()), 0o644); err != nil {
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			err = pathErr.Err
		}
		return nil, handler.Retryable("cannot write %s: %s", path, err.Error())
	}
	return written{Path: path, Bytes: text.Len()}, nil
}

func main() {
	handler.Run(handle)
}
