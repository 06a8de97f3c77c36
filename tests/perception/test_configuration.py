"""The one configuration validator: Python refuses what a file refuses, with the same line."""
from dataclasses import dataclass, field

import pytest

from perception.configuration import InvalidConfigError, build_dataclass, validate
from perception.model import DetectorConfig
from perception.training import TrainingConfig
from perception.world import WorldConfig


@pytest.mark.parametrize("cls, bad, message", [
    (TrainingConfig, dict(batch_size=0), r"`batch_size` must be in \[1, 65536\]. Received: batch_size=0"),
    (TrainingConfig, dict(batch_size="32"), r"`batch_size` must be an integer. Received: batch_size='32'"),
    (TrainingConfig, dict(augment=1), r"`augment` must be true or false. Received: augment=1"),
    (TrainingConfig, dict(lr_schedule="cosin"), r"`lr_schedule` must be one of cosine, constant. "
                                                  r"Received: lr_schedule='cosin'. Did you mean 'cosine'\?"),
    (DetectorConfig, dict(score_threshold=1.5), r"`score_threshold` must be in \[0.0, 1.0\]. Received: score_threshold=1.5"),
    (DetectorConfig, dict(width=True), r"`width` must be an integer. Received: width=True"),
    (DetectorConfig, dict(class_names=["car", 3]), r"`class_names\[1\]` must be a string. Received: class_names\[1\]=3"),
    (WorldConfig, dict(noise=float("nan")), r"`noise` must be a finite number. Received: noise=nan"),
    (WorldConfig, dict(num_objects=(1, 2, 3)), r"`num_objects` must be a list of 2 values. Received: num_objects=\(1, 2, 3\)"),
])
def test_python_refuses_what_a_file_refuses_with_the_same_line(cls, bad, message):
    [(name, value)] = bad.items()
    with pytest.raises(InvalidConfigError, match=f"^{message}$"):
        cls(**bad)
    with pytest.raises(InvalidConfigError, match=f"^exp.yaml(:7)?: `section.{message[1:]}".replace(
            f"Received: {name}", f"Received: section.{name}")):
        build_dataclass(cls, {name: value}, source="exp.yaml", prefix="section.", lines={f"section.{name}": 7})


def test_the_error_is_both_a_value_error_and_a_type_error():
    with pytest.raises(ValueError):
        TrainingConfig(epochs=0)
    with pytest.raises(TypeError):
        WorldConfig(image_size="big")


def test_values_are_normalised_as_a_file_would_be():
    config = DetectorConfig(class_names=["car", "truck"], attributes={"light_state": ["red", "green"]})
    assert config.class_names == ("car", "truck") and config.attributes == {"light_state": ("red", "green")}
    assert isinstance(TrainingConfig(learning_rate=1).learning_rate, float)
    assert WorldConfig(lanes=[1, 2]).lanes == (1, 2)
    assert build_dataclass(TrainingConfig, {"epochs": 3}) == TrainingConfig(epochs=3)


@dataclass
class Section:
    rules: str = field(default="rules/absent.rules", metadata={"path": "file"})
    sizes: dict[str, float] = field(default_factory=dict, metadata={"keys": ("car",), "range": (0.0, 5.0)})

    def __post_init__(self):
        validate(self)


def test_paths_are_checked_only_when_read_from_a_file(tmp_path):
    assert Section().rules == "rules/absent.rules"
    with pytest.raises(InvalidConfigError, match="`rules` names a file that does not exist"):
        build_dataclass(Section, {"rules": "absent.rules"}, base_dir=tmp_path)


@dataclass
class Plain:
    sizes: dict[str, float] = field(default_factory=dict, metadata={"keys": ("car",), "range": (0.0, 5.0)})


def test_mapping_keys_and_values_are_checked_and_a_source_leads_the_message():
    with pytest.raises(InvalidConfigError, match=r"^`sizes` has an unknown key 'cra'. Did you mean 'car'\?"):
        Section(sizes={"cra": 1.0})
    with pytest.raises(InvalidConfigError, match=r"^drive.yaml: `sizes.car` must be in \[0.0, 5.0\]. Received: sizes.car=9.0"):
        validate(Plain(sizes={"car": 9.0}), source="drive.yaml")
    with pytest.raises(TypeError, match="validate\\(\\) checks dataclass instances. Received: dict"):
        validate({})
