"""Can I trust the confidence? Reliability diagrams, expected calibration error, and a temperature."""

import streamlit as st

from core import charts
from core.report import calibration_table
from dashboard.common import colour, page_models

st.title("Calibration")
st.caption(
    "A model is calibrated when, among the faces it labels with 70 % confidence, 70 % are right. "
    "Each point is one confidence bin of the test split; below the diagonal the model is over-confident. "
    "ECE (expected calibration error) is the gap averaged over the bins, weighted by how many faces fall in each. "
    "The temperature T divides the log-probabilities before the softmax; it was fitted on validation, "
    "never on test, to minimise the log-loss, and changes no prediction, only the confidence."
)
models = page_models()
calibrated = {name: model for name, model in models.items() if model.metrics.get("calibration")}
for name in sorted(set(models) - set(calibrated)):
    st.warning(f"**{models[name].title}** has no calibration data: re-evaluate it with `python -m core evaluate`.")
if calibrated:
    scaled = st.toggle("With the temperature fitted on validation", value=False)
    key = "test_with_temperature" if scaled else "test"
    st.plotly_chart(
        charts.reliability_diagram(
            {n: m.metrics["calibration"] for n, m in calibrated.items()},
            {n: colour(n) for n in calibrated},
            {n: m.title for n, m in calibrated.items()},
            key=key,
        ),
        width="stretch",
    )
    table = calibration_table(calibrated)
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={c: st.column_config.NumberColumn(format="%.4f") for c in table.columns if c != "model"})
    st.caption("T > 1 softens the probabilities, T < 1 sharpens them: whichever lowered the log-loss on validation. "
               "The log-loss weighs the probability given to the true class, the diagram and ECE only the top "
               "class's confidence, so the two can disagree: a T under 1 beside a mean confidence above the "
               "accuracy, or an ECE a little worse with T. ECE is noisy where bins hold few faces (the bars).")
