"""Workers: lease tasks, run their WASM handlers under limits, ack, retry and dead-letter in batches."""
