"""`rareshock explore`: a local app to browse results, build a scenario without writing
TOML, run it and compare it with its base (Streamlit, the `explore` extra)."""
