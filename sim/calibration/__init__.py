"""The calibration layer: what the model is checked and fitted against -- queueing theory
(`theory`) and the observations a config names (`backtest`)."""
