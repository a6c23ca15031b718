"""The report layer: what people read -- tables for the terminal, plots of runs, sweeps and
back-tests, and the validation report. It reads stored results (analysis) and draws."""
