// summarise_batch: totals a batch of enriched records (see ../../README.md).
package main

import (
	"ottermq.dev/examples/handlers/handler"
)

const maxCents = 1_000_000_000_000

type totals struct {
	Count      int64 `json:"count"`
	TotalCents int64 `json:"total_cents"`
}

type summary struct {
	totals
	ByCategory map[string]*totals `json:"by_category"`
}

func handle(input []byte) (any, error) {
	value, err := handler.Parse(input)
	if err != nil {
		return nil, err
	}
	records, ok := value.([]any)
	if !ok {
		return nil, handler.Permanent("batch must be a JSON array of records")
	}
	out := summary{ByCategory: map[string]*totals{}}
	for i, item := range records {
		record, ok := item.(map[string]any)
		if !ok {
			return nil, handler.Permanent("record %d: must be an object", i+1)
		}
		cents, ok := handler.Integer(record["amount_cents"])
		if !ok || cents < -maxCents || cents > maxCents {
			return nil, handler.Permanent(
				"record %d: amount_cents must be an integer between -1000000000000 and 1000000000000", i+1)
		}
		category, ok := handler.String(record["category"])
		if !ok || category == "" {
			return nil, handler.Permanent("record %d: category must be a non-empty string", i+1)
		}
		t := out.ByCategory[category]
		if t == nil {
			t = &totals{}
			out.ByCategory[category] = t
		}
		t.Count++
		t.TotalCents += cents
		out.Count++
		out.TotalCents += cents
	}
	return out, nil
}

func main() {
	handler.Run(handle)
}
