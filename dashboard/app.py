"""FER-2013 model lab dashboard: ``streamlit run dashboard/app.py``. A router and the model picker, nothing else."""

from core.machine import prefer_eigen_for_inference

prefer_eigen_for_inference()  # before anything imports TensorFlow

import streamlit as st  # noqa: E402

from dashboard.common import PAGES, favicon, keep_keras_session, load_models, model_picker, view_path  # noqa: E402

keep_keras_session()
st.set_page_config(page_title="FER-2013 model lab", page_icon=favicon(), layout="wide")
sections: dict[str, list] = {}
for file, title, icon, section in PAGES:
    sections.setdefault(section, []).append(
        st.Page(view_path(file), title=title, icon=icon, default=file == "overview")
    )
navigation = st.navigation(sections)
model_picker(load_models()[0])
navigation.run()
