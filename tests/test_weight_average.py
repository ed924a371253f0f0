"""The weights' moving average follows every step, is what validation scores, and leaves training the raw weights."""

from __future__ import annotations

import keras
import numpy as np

from core.weight_average import WARMUP, WeightAverage, averaged_variables


class Recorder(keras.callbacks.Callback):
    """The weights after every training step."""

    def __init__(self):
        super().__init__()
        self.steps = []

    def on_train_batch_end(self, batch, logs=None):
        self.steps.append([v.numpy().copy() for v in averaged_variables(self.model)])


def test_the_average_follows_each_step_and_validation_scores_it(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.BatchNormalization(), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="categorical_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[(x[:, 0] > 0).astype(int) + (x[:, 1] > 0)]
    start = [v.numpy().copy() for v in averaged_variables(model)]
    recorder, average = Recorder(), WeightAverage(0.9)
    result = model.fit(x, y, batch_size=8, epochs=1, validation_data=(x, y), callbacks=[recorder, average], verbose=0)

    expected = start
    for step, weights in enumerate(recorder.steps, start=1):
        decay = min(0.9, (1 + step) / (WARMUP + step))
        expected = [decay * e + (1 - decay) * w for e, w in zip(expected, weights)]
    assert average.steps == len(recorder.steps) == 8
    for mean, wanted in zip(average.average, expected):
        np.testing.assert_allclose(mean, wanted, rtol=1e-5, atol=1e-6)
    # training goes on from the raw weights; validation scored the average
    for variable, raw in zip(averaged_variables(model), recorder.steps[-1]):
        np.testing.assert_array_equal(variable.numpy(), raw)
    with average.applied(model):
        scored = model.evaluate(x, y, verbose=0, return_dict=True)
        assert not np.allclose(averaged_variables(model)[0].numpy(), recorder.steps[-1][0])
    assert result.history["val_loss"][0] == scored["loss"] != model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    np.testing.assert_array_equal(averaged_variables(model)[0].numpy(), recorder.steps[-1][0])

    average.save(tmp_path)
    resumed = WeightAverage(0.9)
    assert resumed.load(tmp_path, model) and resumed.steps == 8
    for kept, mean in zip(resumed.average, average.average):
        np.testing.assert_array_equal(kept, mean)
    order = [v.path for v in averaged_variables(model)]
    model.layers[0].trainable = False  # freezing a layer (as transfer models' phases do) keeps the order
    assert [v.path for v in averaged_variables(model)] == order
    other = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5)])
    assert not WeightAverage(0.9).load(tmp_path, other)  # another model's average is not taken
