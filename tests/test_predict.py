"""python -m s6 predict on real MNIST digits saved as images, a drawn digit, and bad input."""

import pytest
import torch
from conftest import ROOT, run_cli
from PIL import Image, ImageDraw

from s6.predict import to_mnist

CHECKPOINT = ROOT / "results" / "model2" / "seed1" / "checkpoint.pt"  # written by `python -m s6 train --seed 1`


def save_digit(image: torch.Tensor, path, invert: bool = False, size: int = 28) -> None:
    pixels = 255 - image if invert else image
    Image.fromarray(pixels.numpy()).resize((size, size), Image.BILINEAR).save(path)


@pytest.fixture(scope="module")
def test_digit_files(mnist, tmp_path_factory):
    """20 real test digits as PNG files: MNIST polarity at 28x28, and black-on-white at 280x280."""
    folder = tmp_path_factory.mktemp("digits")
    files = []
    for i in range(20):
        image, label = mnist.test_images[i], int(mnist.test_labels[i])
        if i % 2:
            path = folder / f"digit{i}_label{label}_paper.png"
            save_digit(image, path, invert=True, size=280)
        else:
            path = folder / f"digit{i}_label{label}.png"
            save_digit(image, path)
        files.append((path, label))
    return files


def predictions(result) -> list[int]:
    return [int(line.split(": ")[1].split(" ")[0]) for line in result.stdout.strip().splitlines()]


def test_real_test_digits_in_both_polarities_come_back_right(test_digit_files):
    result = run_cli("predict", *[str(p) for p, _ in test_digit_files], "--checkpoint", str(CHECKPOINT))
    assert result.returncode == 0, result.stderr
    right = sum(p == label for p, (_, label) in zip(predictions(result), test_digit_files))
    assert right >= 19


def test_a_thick_seven_drawn_on_white_paper_is_a_seven(tmp_path):
    image = Image.new("L", (300, 300), "white")
    draw = ImageDraw.Draw(image)
    draw.line([(70, 60), (230, 60), (130, 250)], fill="black", width=28, joint="curve")
    image.save(tmp_path / "my7.png")
    result = run_cli("predict", str(tmp_path / "my7.png"), "--checkpoint", str(CHECKPOINT), "--top", "3")
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    assert line.startswith(f"{tmp_path / 'my7.png'}: 7 (")
    assert line.count("%") == 3


def test_preprocessing_centres_a_digit_like_mnist(mnist):
    image = Image.fromarray((255 - mnist.test_images[0]).numpy()).resize((280, 280))
    digit = to_mnist(image)
    assert digit.shape == (28, 28) and digit.min() >= 0 and digit.max() <= 1
    assert digit[0].max() == 0 and digit[:, 0].max() == 0  # a black margin like MNIST's
    ys, xs = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    assert abs(float((digit * ys).sum() / digit.sum()) - 13.5) <= 0.5
    assert abs(float((digit * xs).sum() / digit.sum()) - 13.5) <= 0.5


def bad_inputs(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "notes.png").write_text("this is not an image")
    Image.new("L", (50, 50), "white").save(tmp_path / "blank.png")
    (tmp_path / "truncated.pt").write_bytes(CHECKPOINT.read_bytes()[:1000])
    (tmp_path / "random.pt").write_bytes(b"\x00" * 4096)
    good = str(tmp_path / "blank.png")
    return {
        "empty image file": ([str(tmp_path / "empty.png")], "not an image"),
        "text file as image": ([str(tmp_path / "notes.png")], "not an image"),
        "blank image": ([good], "no digit found"),
        "missing image": ([str(tmp_path / "nope.png")], "no such file"),
        "missing checkpoint": ([good, "--checkpoint", str(tmp_path / "none.pt")], "no checkpoint"),
        "truncated checkpoint": ([good, "--checkpoint", str(tmp_path / "truncated.pt")], "not a readable"),
        "garbage checkpoint": ([good, "--checkpoint", str(tmp_path / "random.pt")], "not a readable"),
        "top 11": ([good, "--top", "11"], "only 10 digits"),
    }


@pytest.mark.parametrize("case", ["empty image file", "text file as image", "blank image", "missing image",
                                  "missing checkpoint", "truncated checkpoint", "garbage checkpoint", "top 11"])
def test_bad_input_is_one_line_without_traceback(case, tmp_path):
    args, message = bad_inputs(tmp_path)[case]
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    result = run_cli("predict", *args, "--checkpoint", str(CHECKPOINT)) if "--checkpoint" not in args \
        else run_cli("predict", *args)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr, result.stderr
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_checkpoint_of_another_version_is_refused(tmp_path):
    checkpoint = torch.load(CHECKPOINT, weights_only=True)
    torch.save({**checkpoint, "format": 99, "version": "9.0"}, tmp_path / "future.pt")
    result = run_cli("predict", "x.png", "--checkpoint", str(tmp_path / "future.pt"))
    assert result.returncode == 1 and "format 99" in result.stderr and "Traceback" not in result.stderr


def test_checkpoint_whose_weights_belong_to_another_model_is_refused(tmp_path):
    checkpoint = torch.load(CHECKPOINT, weights_only=True)
    torch.save({**checkpoint, "model": "model3"}, tmp_path / "mislabelled.pt")
    result = run_cli("predict", "x.png", "--checkpoint", str(tmp_path / "mislabelled.pt"))
    assert result.returncode == 1 and "do not fit model3" in result.stderr and "Traceback" not in result.stderr
