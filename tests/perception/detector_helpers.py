"""Hand-made scenes for detector tests: coloured rectangles on grey, with a
light state encoded in the brightness of the second class."""
import torch

CLASS_NAMES = ("red", "blue")


def rectangle_scenes(num_scenes: int, *, size: int = 64, seed: int = 0) -> list:
    generator = torch.Generator().manual_seed(seed)
    scenes = []
    for image_id in range(num_scenes):
        image = torch.full((3, size, size), 0.3)
        boxes, labels, states = [], [], []
        for k in range(3):
            w, h = torch.randint(8, 20, (2,), generator=generator).tolist()
            x, y = torch.randint(0, size - 20, (2,), generator=generator).tolist()
            label = k % 2
            state = int(torch.randint(0, 3, (1,), generator=generator)) if label == 1 else -1
            color = torch.tensor([1.0, 0.0, 0.0]) if label == 0 else torch.tensor([0.0, 0.0, 1.0])
            image[:, y:y + h, x:x + w] = color[:, None, None] * (0.5 + 0.25 * max(state, 0))
            boxes.append([x, y, x + w, y + h])
            labels.append(label)
            states.append(state)
        scenes.append((image, {"boxes": torch.tensor(boxes, dtype=torch.float32), "labels": torch.tensor(labels),
                               "light_state": torch.tensor(states), "image_id": image_id}))
    return scenes


def small_detector(**overrides):
    from perception.model import Detector

    settings = dict(width=8, head_width=16, class_names=CLASS_NAMES)
    settings.update(overrides)
    return Detector(**settings)


def quick_training(**overrides):
    from perception.training import TrainingConfig

    settings = dict(batch_size=8, learning_rate=1e-2, warmup_steps=5, augment=False, seed=0)
    settings.update(overrides)
    return TrainingConfig(**settings)
