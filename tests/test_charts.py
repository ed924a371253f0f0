"""The Plotly figures: what each one marks, checked on its traces and shapes."""

from __future__ import annotations


def test_training_curves_star_the_kept_epoch_and_mark_each_change_of_phase_and_warm_restart():
    import pandas as pd

    from core import charts

    history = pd.DataFrame({"epoch": [1, 2, 3, 4], "phase": ["full", "full", "reweighted", "reweighted"],
                            "loss": [1.8, 1.5, 1.6, 1.5], "accuracy": [0.3, 0.5, 0.5, 0.55],
                            "val_loss": [1.7, 1.4, 1.5, 1.45], "val_accuracy": [0.35, 0.60, 0.55, 0.57],
                            "learning_rate": [5e-4, 1e-3, 5e-4, 1e-5], "seconds": [1.0] * 4})
    figure = charts.training_curves({"resnet50v2": history}, {"resnet50v2": "#000"}, {"resnet50v2": "ResNet"},
                                    {"resnet50v2": 4})
    star = next(trace for trace in figure.data if trace.name == "ResNet kept epoch")
    assert list(star.x) == [4] and list(star.y) == [0.57]  # not epoch 2, the best before the switch
    assert [shape.x0 for shape in figure.layout.shapes] == [2.5] * 3  # one line on each of the three panels
    assert [a.hovertext for a in figure.layout.annotations if a.text == "▼"] == [
        "ResNet, after epoch 2: class weights on"
    ]

    # a continued run warms up anew, then trains unweighted again before its own late switch: each change is named
    continued = pd.concat([history, history.assign(epoch=history["epoch"] + 4)], ignore_index=True)
    assert charts.training_events(continued) == {2: "class weights on", 4: "class weights off, warm restart",
                                                 6: "class weights on"}
    vgg = continued.assign(phase="full")
    figure = charts.training_curves({"resnet50v2": continued, "vgg16": vgg}, {"resnet50v2": "#000", "vgg16": "#111"},
                                    {"resnet50v2": "ResNet", "vgg16": "VGG"}, {"resnet50v2": 8, "vgg16": 8})
    markers = [(a.x, a.xshift, a.hovertext) for a in figure.layout.annotations if a.text == "▼"]
    assert markers == [(2.5, 0, "ResNet, after epoch 2: class weights on"),
                       (4.5, 0, "ResNet, after epoch 4: class weights off, warm restart"),
                       (6.5, 0, "ResNet, after epoch 6: class weights on"),
                       (4.5, 10, "VGG, after epoch 4: warm restart")]  # beside the first marker, not over it
