"""Speed and scale benchmarks; each prints JSON (python -m benchmarks.<name> --json)."""
