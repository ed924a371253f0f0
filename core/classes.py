"""The seven FER-2013 expression classes, in the one order the whole project uses.

The order is the Kaggle folder order (alphabetical). The original ``fer2013.csv`` numbers the
classes differently; ``CSV_CODE_TO_CLASS`` maps its codes onto this order.

    >>> from core.classes import CLASS_NAMES, class_index
    >>> CLASS_NAMES[class_index("happy")]
    'happy'
"""

CLASS_NAMES = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
NUM_CLASSES = len(CLASS_NAMES)
IMAGE_SIZE = 48

# fer2013.csv: 0 angry, 1 disgust, 2 fear, 3 happy, 4 sad, 5 surprise, 6 neutral.
CSV_CODE_TO_CLASS = {0: "angry", 1: "disgust", 2: "fear", 3: "happy", 4: "sad", 5: "surprise", 6: "neutral"}


def class_index(name: str) -> int:
    """Index of a class name in ``CLASS_NAMES``."""
    return CLASS_NAMES.index(name)
