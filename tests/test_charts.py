"""The Plotly figures: what each one marks, checked on its traces and shapes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import charts

HISTORY = pd.DataFrame({"epoch": [1, 2, 3, 4], "phase": ["full", "full", "reweighted", "reweighted"],
                        "loss": [1.8, 1.5, 1.6, 1.5], "accuracy": [0.3, 0.5, 0.5, 0.55],
                        "val_loss": [1.7, 1.4, 1.5, 1.45], "val_accuracy": [0.35, 0.60, 0.55, 0.57],
                        "learning_rate": [5e-4, 1e-3, 5e-4, 1e-5], "seconds": [1.0] * 4})


def test_a_training_panel_stars_the_kept_epoch_and_marks_changes_on_request():
    figure = charts.training_panel(HISTORY, "#000", "ResNet", 4)
    star = next(trace for trace in figure.data if trace.name == "kept epoch")
    assert list(star.x) == [4] and list(star.y) == [0.57]  # not epoch 2, the best before the switch
    assert not figure.layout.shapes  # changes only when asked for
    figure = charts.training_panel(HISTORY, "#000", "ResNet", 4, show_events=True)
    assert [shape.x0 for shape in figure.layout.shapes] == [2.5, 2.5]  # across accuracy and learning rate
    markers = [a.hovertext for a in figure.layout.annotations if a.text == "▼"]
    assert markers == ["ResNet, after epoch 2: class weights on"]
    assert figure.layout.yaxis2.type == "log"  # the learning rate


def test_each_change_of_a_continued_run_is_named():
    # a continued run warms up anew, then trains unweighted again before its own late switch: each change is named
    continued = pd.concat([HISTORY, HISTORY.assign(epoch=HISTORY["epoch"] + 4)], ignore_index=True)
    assert charts.training_events(continued) == {2: "class weights on", 4: "class weights off, warm restart",
                                                 6: "class weights on"}
    figure = charts.training_panel(continued, "#000", "ResNet", 8, show_events=True)
    assert [a.hovertext for a in figure.layout.annotations if a.text == "▼"] == [
        "ResNet, after epoch 2: class weights on", "ResNet, after epoch 4: class weights off, warm restart",
        "ResNet, after epoch 6: class weights on"]


def test_the_confusion_difference_colours_better_blue_and_never_writes_minus_zero():
    difference = np.zeros((7, 7))
    difference[0, 0], difference[0, 1] = 0.10, -0.10  # the second model gets more angry faces right ...
    difference[1, 1], difference[1, 0] = -0.05, 0.05  # ... and fewer disgust faces
    difference[2, 2] = -0.001  # rounds to nothing
    heatmap = charts.confusion_difference(difference, "B minus A", normalised=True).data[0]
    better = np.asarray(heatmap.z)
    assert better[0, 0] > 0 and better[0, 1] > 0  # both cells of the improvement read as better
    assert better[1, 1] < 0 and better[1, 0] < 0
    assert heatmap.text[0][0] == "+0.10" and heatmap.text[0][1] == "-0.10" and heatmap.text[2][2] == "0"
    assert better[2, 2] == 0  # a cell written 0 is coloured as no change
    assert not any(cell == "-0.00" for row in heatmap.text for cell in row)


def test_the_reliability_diagram_shows_how_many_faces_each_bin_holds():
    calibration = {"test": {"confidence": [0.3, 0.6, 0.9], "accuracy": [0.2, 0.5, 1.0], "count": [1, 40, 400]}}
    figure = charts.reliability_diagram({"cnn": calibration}, {"cnn": "#000"}, {"cnn": "CNN"})
    line = next(trace for trace in figure.data if trace.name == "CNN" and trace.type == "scatter")
    sizes = list(line.marker.size)
    assert sizes == sorted(sizes) and sizes[0] < 8 < sizes[-1]  # a one-face bin is a small point
    bars = next(trace for trace in figure.data if trace.type == "bar")
    assert list(bars.y) == [1, 40, 400]


def test_the_roc_averages_are_told_apart_from_each_other_and_from_chance():
    curve = {"fpr": [0, 0.5, 1], "tpr": [0, 0.8, 1], "auc": 0.65}
    figure = charts.roc_figure({"angry": curve, "micro average": curve, "macro average": curve}, "cnn")
    lines = {trace.name.split(" (")[0]: (trace.line.color, trace.line.dash) for trace in figure.data}
    assert len(set(lines.values())) == len(lines)  # chance, angry and the two averages each drawn their own way
    assert lines["angry"] == (None, None)  # the classes take the theme's colours
    coloured = charts.roc_figure({"Custom CNN": curve}, "disgust", {"Custom CNN": "#123456"})
    assert coloured.data[1].line.color == "#123456"
