// Package handler is OtterMQ handler support for Go: the WASI command shape.
//
// A handler's main calls handler.Run(handle) with
// `func handle(input []byte) (any, error)`. Run reads the JSON input from
// stdin and writes the output as JSON to stdout (exit 0), or the error
// message to stderr: exit 100 for a *Failure with Permanent set (no retry),
// exit 1 for any other error (retryable).
package handler

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
)

// ExitPermanent is the exit code of a permanent failure.
const ExitPermanent = 100

// Failure is an error that says whether retrying can help.
type Failure struct {
	Message   string
	Permanent bool
}

func (f *Failure) Error() string { return f.Message }

// Permanent is a failure that retrying cannot fix: the task is dead-lettered.
func Permanent(format string, args ...any) error {
	return &Failure{Message: fmt.Sprintf(format, args...), Permanent: true}
}

// Retryable is a failure worth retrying (with the pipeline's backoff).
func Retryable(format string, args ...any) error {
	return &Failure{Message: fmt.Sprintf(format, args...)}
}

// Run runs one call of a handler as a WASI command and exits.
func Run(handle func(input []byte) (any, error)) {
	input, err := io.ReadAll(os.Stdin)
	var output any
	if err == nil {
		output, err = handle(input)
	}
	if err == nil {
		var out bytes.Buffer
		encoder := json.NewEncoder(&out)
		encoder.SetEscapeHTML(false)
		if err = encoder.Encode(output); err == nil {
			_, err = os.Stdout.Write(out.Bytes())
		}
	}
	if err == nil {
		os.Exit(0)
	}
	fmt.Fprintln(os.Stderr, err.Error())
	var failure *Failure
	if errors.As(err, &failure) && failure.Permanent {
		os.Exit(ExitPermanent)
	}
	os.Exit(1)
}

// Parse decodes the input, or returns the permanent "invalid JSON" failure.
func Parse(input []byte) (any, error) {
	var value any
	if err := json.Unmarshal(input, &value); err != nil {
		return nil, Permanent("invalid JSON: %s", err.Error())
	}
	return value, nil
}

// String returns v as a string.
func String(v any) (string, bool) {
	s, ok := v.(string)
	return s, ok
}

// Integer returns v if it is a JSON number with an integral value in [-2^53, 2^53], such as 3 or 3.0.
func Integer(v any) (int64, bool) {
	x, ok := v.(float64)
	if !ok || x < -(1<<53) || x > 1<<53 || math.Floor(x) != x {
		return 0, false
	}
	return int64(x), true
}

// Cents converts an amount in currency units to integer cents, half away from zero.
func Cents(amount float64) int64 {
	scaled := amount * 100
	rounded := int64(math.Floor(math.Abs(scaled) + 0.5))
	if scaled < 0 {
		return -rounded
	}
	return rounded
}

// Date returns v if it is a string holding a real YYYY-MM-DD calendar date (leap years included).
func Date(v any) (string, bool) {
	s, ok := v.(string)
	if !ok || len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return "", false
	}
	number := func(text string) int {
		n := 0
		for _, c := range []byte(text) {
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day := number(s[:4]), number(s[5:7]), number(s[8:])
	if year < 0 || month < 1 || month > 12 || day < 1 {
		return "", false
	}
	days := [12]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
	if month == 2 && (year%4 == 0 && year%100 != 0 || year%400 == 0) {
		days[1] = 29
	}
	return s, day <= days[month-1]
}

// FilePath joins the input's "dir" field (fallback when absent) and name.
// ok is false when dir is not an absolute path: a string starting with "/"
// and without NUL characters. Trailing slashes of dir are dropped.
func FilePath(object map[string]any, fallback, name string) (path string, ok bool) {
	dir := fallback
	if raw, present := object["dir"]; present {
		if dir, ok = raw.(string); !ok || !strings.HasPrefix(dir, "/") || strings.ContainsRune(dir, 0) {
			return "", false
		}
	}
	dir = strings.TrimRight(dir, "/")
	return dir + "/" + name, true
}
