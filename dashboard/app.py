"""FER-2013 model lab dashboard: ``streamlit run dashboard/app.py``. A router and the model picker, nothing else."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `core` and `dashboard` from the repo root

import streamlit as st  # noqa: E402

from dashboard.common import PAGES, keep_keras_session, load_models, model_picker, view_path  # noqa: E402

keep_keras_session()
st.set_page_config(page_title="FER-2013 model lab", page_icon=":material/mood:", layout="wide")
sections: dict[str, list] = {}
for file, title, icon, section in PAGES:
    sections.setdefault(section, []).append(st.Page(view_path(file), title=title, icon=icon, default=file == "overview"))
navigation = st.navigation(sections)
model_picker(load_models()[0])
navigation.run()
