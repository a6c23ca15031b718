"""The report layer: what people read. One module or subpackage per product -- `run`,
`sweep`, `compare`, `calibration`, `backtest`, `validation` -- holds that product's HTML
page, plots and text; `write` picks a folder's page and writes it, and `html` (with
`templates`), `sections`, `figures`, `text` and `progress` are shared. It reads stored
results (analysis) and draws."""
