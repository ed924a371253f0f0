"""Can I trust the confidence? Reliability diagrams, expected calibration error, and a temperature."""

import pandas as pd
import streamlit as st

from core import charts
from dashboard.common import colour, page_models

st.title("Calibration")
st.caption("A model is calibrated when, among the faces it labels with 70 % confidence, 70 % are right. "
           "Each point is one confidence bin of the test split; below the diagonal the model is over-confident. "
           "ECE (expected calibration error) is the gap averaged over the bins, weighted by how many faces fall in each. "
           "The temperature T divides the log-probabilities before the softmax; it was fitted on validation, "
           "never on test, and changes no prediction, only the confidence.")
models = page_models()
calibrated = {name: model for name, model in models.items() if model.metrics.get("calibration")}
for name in sorted(set(models) - set(calibrated)):
    st.warning(f"**{models[name].title}** has no calibration data: re-evaluate it with `python -m core evaluate`.")
if calibrated:
    scaled = st.toggle("With the temperature fitted on validation", value=False)
    key = "test_with_temperature" if scaled else "test"
    st.plotly_chart(charts.reliability_diagram({n: m.metrics["calibration"] for n, m in calibrated.items()},
                                               {n: colour(n) for n in calibrated}, {n: m.title for n, m in calibrated.items()},
                                               key=key), width="stretch")
    rows = []
    for name, model in calibrated.items():
        calibration = model.metrics["calibration"]
        rows.append({"model": model.title, "ECE": calibration["test"]["ece"],
                     "ECE with T": calibration["test_with_temperature"]["ece"], "T": calibration["temperature"],
                     "log-loss": calibration["nll"], "log-loss with T": calibration["nll_with_temperature"],
                     "mean confidence": sum(c * n for c, n in zip(calibration["test"]["confidence"], calibration["test"]["count"])
                                            if n) / max(sum(calibration["test"]["count"]), 1),
                     "accuracy": model.metrics["accuracy"]})
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                 column_config={c: st.column_config.NumberColumn(format="%.4f") for c in rows[0] if c != "model"})
    st.caption("T > 1: the model was over-confident and is softened; T < 1: under-confident (label smoothing, used "
               "in training here, tends to make models under-confident).")
