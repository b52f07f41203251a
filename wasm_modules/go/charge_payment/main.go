// charge_payment: a deterministic stand-in for a payment gateway, used to
// show retries and dead-lettering (see ../../README.md). With the environment
// variable PAYMENT_GATEWAY_MODE granted and set to `sandbox`, transaction ids
// say so.
package main

import (
	"fmt"
	"os"

	"ottermq.dev/examples/handlers/handler"
)

type charge struct {
	OrderID       string `json:"order_id"`
	Status        string `json:"status"`
	AmountCents   int64  `json:"amount_cents"`
	Attempt       int64  `json:"attempt"`
	TransactionID string `json:"transaction_id"`
}

func handle(input []byte) (any, error) {
	value, err := handler.Parse(input)
	if err != nil {
		return nil, err
	}
	payment, ok := value.(map[string]any)
	if !ok {
		return nil, handler.Permanent("payment must be a JSON object")
	}
	orderID, ok := handler.String(payment["order_id"])
	if !ok || orderID == "" {
		return nil, handler.Permanent("order_id must be a non-empty string")
	}
	amount, ok := handler.Integer(payment["amount_cents"])
	if !ok || amount < 1 {
		return nil, handler.Permanent("amount_cents must be a positive integer")
	}
	attempt, ok := handler.Integer(payment["attempt"])
	if !ok || attempt < 1 {
		return nil, handler.Permanent("attempt must be a positive integer")
	}
	failUntil := int64(0)
	if raw, present := payment["fail_until"]; present {
		failUntil, ok = handler.Integer(raw)
		if !ok || failUntil < 0 {
			return nil, handler.Permanent("fail_until must be a non-negative integer")
		}
	}
	card := ""
	if raw, present := payment["card"]; present {
		if card, ok = handler.String(raw); !ok {
			return nil, handler.Permanent("card must be a string")
		}
	}

	if attempt < failUntil {
		return nil, handler.Retryable("payment gateway unavailable (attempt %d, succeeds from attempt %d)", attempt, failUntil)
	}
	if card == "declined" {
		return nil, handler.Permanent("card declined")
	}
	prefix := "txn"
	if os.Getenv("PAYMENT_GATEWAY_MODE") == "sandbox" {
		prefix = "sbx"
	}
	return charge{
		OrderID:       orderID,
		Status:        "captured",
		AmountCents:   amount,
		Attempt:       attempt,
		TransactionID: fmt.Sprintf("%s-%s-%d", prefix, orderID, attempt),
	}, nil
}

func main() {
	handler.Run(handle)
}
