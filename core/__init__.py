"""FER-2013 model lab: data, models, training, evaluation and the artifact files the dashboard reads."""

import os

# TensorFlow's C++ start-up chatter hides the messages that matter; real errors still show.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
