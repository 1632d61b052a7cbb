"""Query parsing, legs, calibration, aggregation and fusion."""
