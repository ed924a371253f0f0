"""FER-2013 model lab dashboard: ``streamlit run dashboard/app.py``. A router and the model picker, nothing else."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `core` and `dashboard` from the repo root

import streamlit as st  # noqa: E402

from dashboard.common import load_models, model_picker  # noqa: E402

st.set_page_config(page_title="FER-2013 model lab", page_icon=":material/mood:", layout="wide")
navigation = st.navigation({
    "Compare": [
        st.Page("pages/overview.py", title="Overview", icon=":material/leaderboard:", default=True),
        st.Page("pages/data.py", title="Data", icon=":material/dataset:"),
        st.Page("pages/training.py", title="Training", icon=":material/show_chart:"),
        st.Page("pages/per_class.py", title="Per-class", icon=":material/bar_chart:"),
        st.Page("pages/confusion.py", title="Confusion", icon=":material/grid_on:"),
        st.Page("pages/roc.py", title="ROC", icon=":material/ssid_chart:"),
        st.Page("pages/mistakes.py", title="Mistakes", icon=":material/error:"),
    ],
    "Try": [st.Page("pages/try_it.py", title="Try it", icon=":material/photo_camera:")],
})
model_picker(load_models()[0])
navigation.run()
