"""python -m s6 predict on real MNIST digits saved as images, a drawn digit, and bad input."""

import subprocess
import sys
import zipfile

import pytest
import torch
from conftest import ROOT, folder_bytes, run_cli, run_main
from photos import CONDITIONS, number_set, photo_set, render_photo, small_set
from PIL import Image, ImageDraw

from s6.inference.predict import Classifier, classify, load_classifier, number_of
from s6.inference.shipped import SHIPPED
from s6.models.registry import DEFAULT_MODEL, recipe_for
from s6.training.data import TensorLoader
from s6.training.train import evaluate

CHECKPOINT = ROOT / "results" / DEFAULT_MODEL / "seed1" / "checkpoint.pt"  # `python -m s6 train --seed 1` wrote it


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
    result = run_main("predict", *[str(p) for p, _ in test_digit_files], "--checkpoint", str(CHECKPOINT))
    assert result.returncode == 0, result.stderr
    right = sum(p == label for p, (_, label) in zip(predictions(result), test_digit_files))
    assert right >= 19


def test_a_thick_seven_drawn_on_white_paper_is_a_seven(tmp_path):
    image = Image.new("L", (300, 300), "white")
    draw = ImageDraw.Draw(image)
    draw.line([(70, 60), (230, 60), (130, 250)], fill="black", width=28, joint="curve")
    image.save(tmp_path / "my7.png")
    result = run_main("predict", str(tmp_path / "my7.png"), "--checkpoint", str(CHECKPOINT), "--top", "3")
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    assert line.startswith(f"{tmp_path / 'my7.png'}: 7 (")
    assert line.count("%") == 3


def test_a_phone_photo_stored_on_its_side_is_turned_upright_by_its_exif_tag(tmp_path):
    """Phones save a portrait photo's pixels sideways, with EXIF orientation 6 (turn 90 degrees clockwise to view)."""
    upright = Image.new("L", (300, 400), "white")
    ImageDraw.Draw(upright).line([(70, 110), (230, 110), (130, 300)], fill="black", width=28, joint="curve")
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what the sensor wrote: the 7 lies on its side
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the viewer turns the pixels 90 degrees clockwise
    stored.save(tmp_path / "photo.jpg", exif=exif, quality=90)
    result = run_main("predict", str(tmp_path / "photo.jpg"), "--checkpoint", str(CHECKPOINT))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{tmp_path / 'photo.jpg'}: 7 ("), result.stdout


@pytest.fixture(scope="module")
def reader():
    """What predict and the demo page read an image with: the image's digits, then the model."""
    return Classifier(CHECKPOINT)


def test_preprocessing_centres_a_digit_like_mnist(mnist, reader):
    image = Image.fromarray((255 - mnist.test_images[0]).numpy()).resize((280, 280))
    _, (digit,) = reader(image)  # the one 28x28 digit the model received
    assert digit.shape == (28, 28) and digit.min() >= 0 and digit.max() <= 1
    assert digit[0].max() == 0 and digit[:, 0].max() == 0  # a black margin like MNIST's
    ys, xs = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    assert abs(float((digit * ys).sum() / digit.sum()) - 13.5) <= 0.5
    assert abs(float((digit * xs).sum() / digit.sum()) - 13.5) <= 0.5


@pytest.mark.slow
@pytest.mark.parametrize("condition", list(CONDITIONS))
def test_photos_of_digits_on_paper_are_read_in_every_lighting_condition(condition, mnist, reader):
    """100 test digits (1000-1099, never used to tune the preparation) as noisy, blurred JPEG photos.

    100, not fewer: at 40 one digit is 2.5 points, and the goal is 95% (the raw tensors: 99 of these 100).
    """
    photos = photo_set(mnist.test_images[1000:1100], mnist.test_labels[1000:1100], CONDITIONS[condition], 100, seed=1)
    read = [reader(photo) for photo, _ in photos]  # (probabilities, digits) of each photo, as predict reads it
    right = sum(number_of(probabilities) == str(label) for (probabilities, _), (_, label) in zip(read, photos))
    assert right >= 95, f"{right} of 100 right"  # the goal: 95% in every condition
    digits = torch.cat([seen for _, seen in read])
    edges = torch.cat([digits[:, [0, 1, -2, -1]].flatten(), digits[:, :, [0, 1, -2, -1]].flatten()])
    assert edges.mean() < 0.02  # only the digit's strokes: no grey block of paper along the edges


@pytest.mark.slow
def test_numbers_of_two_to_four_digits_are_read_digit_by_digit_in_every_condition(mnist, reader):
    """20 numbers per condition (test digits from 3000 on, another rendering seed than the benchmark's).

    Measured with the seed-1 checkpoint on 40 per condition: 190 of 200 right; the misses are a digit misread,
    not a digit lost. The goal is 95%; this checks 90% on a smaller sample, 10 misses of 100 allowed.
    """
    right = 0
    for condition in CONDITIONS.values():
        numbers = number_set(mnist.test_images[3000:], mnist.test_labels[3000:], condition, 20, seed=2)
        right += sum(reader.read_number(photo) == number for photo, number in numbers)
    assert right >= 90, f"{right} of 100 numbers right"


@pytest.mark.slow
def test_a_digit_a_thirtieth_of_a_large_photo_is_read_in_every_condition(mnist, reader):
    """A 67-pixel digit box in a 2000x1500 photo: at 256 pixels it would be 8 pixels across, so it is found
    before anything is shrunk, and its polarity is judged where its strokes keep their contrast (under a shadow
    that judgement failed on 12 of 40 before, and 3 of these 20). Measured with the seed-1 checkpoint: 20 of 20 in
    each condition; the goal is 95% in each."""
    right = {}
    for name, condition in CONDITIONS.items():
        photos = small_set(mnist.test_images[4000:], mnist.test_labels[4000:], condition, 20, seed=2)
        right[name] = sum(reader.read_number(photo) == str(label) for photo, label in photos)
    assert min(right.values()) >= 19, f"small digits right of 20: {right}"


def test_a_photo_of_two_digits_prints_the_number_and_each_digits_confidence(mnist, tmp_path):
    first, second = 0, 1  # the first two test digits (a 7 and a 2), dark on white, side by side, 280 pixels high
    labels = [int(mnist.test_labels[i]) for i in (first, second)]
    strip = torch.cat([255 - mnist.test_images[first], 255 - mnist.test_images[second]], dim=1)
    Image.fromarray(strip.numpy()).resize((560, 280), Image.LANCZOS).save(tmp_path / "two.png")
    result = run_main("predict", str(tmp_path / "two.png"), "--checkpoint", str(CHECKPOINT))
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    assert line.startswith(f"{tmp_path / 'two.png'}: {labels[0]}{labels[1]}, digit by digit: {labels[0]} (")
    assert f" · {labels[1]} (" in line


def page_of_digits(mnist, condition: str):
    """A photo of the first 30 test digits in 5 rows of 6, a sixth of the photo's height each."""
    grid = torch.cat([torch.cat(list(mnist.test_images[6 * r : 6 * r + 6]), dim=1) for r in range(5)])
    return render_photo(grid, CONDITIONS[condition], torch.Generator().manual_seed(1), (960, 720), (0.15, 0.18))


@pytest.mark.parametrize("condition", list(CONDITIONS))
def test_a_page_of_digits_in_rows_is_refused_saying_what_was_found(condition, mnist, tmp_path):
    """Read as one row, a page's rows merged into a wrong 6-digit number (before 2026-12-07, in every condition,
    with exit 0); now predict says what it found and how to get a reading, in one line."""
    page_of_digits(mnist, condition).save(tmp_path / "page.png")
    result = run_main("predict", str(tmp_path / "page.png"), "--checkpoint", str(CHECKPOINT))
    assert result.returncode != 0 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [f"error: {tmp_path / 'page.png'}: found 30 marks in 5 rows; s6 "
                                                  "reads one row of digits: crop the image to the number to read"]


@pytest.mark.slow
def test_clean_mnist_digits_read_through_predict_are_classified_as_the_raw_tensors(mnist, reader):
    """1,000 clean test digits (3000-3999) saved as images: re-centring moves a few by a pixel, no more.

    Measured with the seed-1 checkpoint: 99.1% agree with the raw tensors, 991 right against 994.
    """
    images, labels = mnist.test_images[3000:4000], mnist.test_labels[3000:4000]
    ours = [reader.read_number(Image.fromarray(image.numpy())) for image in images]  # "" if no digit, "11" if two
    raw = [str(int(d)) for d in classify(reader.model, images.float() / 255, reader.mean, reader.std).argmax(1)]
    truth = [str(int(label)) for label in labels]
    assert sum(a == b for a, b in zip(ours, raw)) >= 980
    assert sum(a == t for a, t in zip(ours, truth)) >= sum(b == t for b, t in zip(raw, truth)) - 5  # half a point


def test_a_16_bit_png_reads_as_its_8_bit_copy(mnist, reader, tmp_path):
    """Pillow's 8-bit conversion clips 16-bit greys to white (a 16-bit 7 was read as a 0, 76.7% sure): scaled
    instead, the 16-bit file gives the model the same pixels as the 8-bit one, and the same answer."""
    from s6.inference.ink import load_image

    digit = mnist.test_images[0].numpy()
    Image.fromarray(digit.astype("uint16") * 257).save(tmp_path / "seven16.png")
    Image.fromarray(digit).save(tmp_path / "seven8.png")
    assert Image.open(tmp_path / "seven16.png").mode == "I;16"
    sixteen, eight = load_image(tmp_path / "seven16.png"), load_image(tmp_path / "seven8.png")
    assert sixteen.tobytes() == eight.tobytes()
    assert reader.read_number(sixteen) == str(int(mnist.test_labels[0]))


def test_a_grey_page_is_paper_not_ink(reader):
    """A dark 7 on grey paper (100 of 255): the old border rule took such a page for a dark board."""
    image = Image.new("L", (300, 300), 100)
    ImageDraw.Draw(image).line([(70, 60), (230, 60), (130, 250)], fill=15, width=24, joint="curve")
    _, (digit,) = reader(image)
    assert digit[0].max() == 0 and digit[:, 0].max() == 0 and digit.max() > 0.9  # light strokes on black


def test_several_images_give_a_line_each_and_a_bad_one_fails_the_exit_code(test_digit_files, tmp_path):
    (tmp_path / "notes.png").write_text("not an image")
    (good1, label1), (good2, label2) = test_digit_files[:2]
    result = run_main("predict", str(good1), str(tmp_path / "notes.png"), str(good2), "--checkpoint", str(CHECKPOINT))
    assert result.returncode == 1
    assert predictions(result) == [label1, label2]
    assert result.stderr.count("error: ") == 1 and "notes.png: not an image" in result.stderr


def test_predict_names_the_checkpoint_and_its_accuracy(test_digit_files):
    result = run_main("predict", str(test_digit_files[0][0]), "--checkpoint", str(CHECKPOINT))
    assert result.returncode == 0
    epochs = recipe_for(DEFAULT_MODEL).epochs
    accuracy = torch.load(CHECKPOINT, weights_only=True)["metrics"]["epochs"][-1]["test_acc"]
    shown = f"using {CHECKPOINT}: {DEFAULT_MODEL}, seed 1, epoch {epochs} of {epochs}; its test accuracy {accuracy:.2f}"
    assert shown in result.stderr


@pytest.mark.slow
def test_predict_from_any_folder_uses_your_run_there_else_the_shipped_weights(test_digit_files, tmp_path):
    (image, label), shipped = test_digit_files[0], torch.load(SHIPPED, weights_only=True)
    accuracy = shipped["metrics"]["epochs"][-1]["test_acc"]
    result = run_cli("predict", str(image), cwd=tmp_path)  # a folder outside the repository, with no runs/
    assert result.returncode == 0 and predictions(result) == [label]
    epochs = recipe_for(DEFAULT_MODEL).epochs
    header = (f"using the weights shipped with s6: {DEFAULT_MODEL}, seed 1, epoch {epochs} of {epochs}; its test "
              f"accuracy {accuracy:.2f}%")
    assert header in result.stderr
    assert header in (ROOT / "README.md").read_text()  # README's example quotes the weights that ship
    own = tmp_path / "runs" / DEFAULT_MODEL / "checkpoint.pt"
    own.parent.mkdir(parents=True)
    own.write_bytes(CHECKPOINT.read_bytes())
    assert f"using runs/{DEFAULT_MODEL}/checkpoint.pt" in run_cli("predict", str(image), cwd=tmp_path).stderr


@pytest.mark.slow
def test_shipped_weights_are_the_committed_seed1_run_and_reach_its_accuracy(mnist):
    """`python -m s6.inference.shipped results/MODEL/seed1` made them (MODEL: the default): same weights, and the
    accuracy they claim is real."""
    model, shipped = load_classifier(SHIPPED)
    run = torch.load(CHECKPOINT, weights_only=True)
    assert shipped["metrics"] == run["metrics"] and shipped["plan"] == run["plan"]
    assert all(torch.equal(shipped["state_dict"][k], v) for k, v in run["state_dict"].items())
    assert not {"optimizer", "scheduler", "rng"} & set(shipped)  # only what predicting needs
    _, accuracy = evaluate(model, TensorLoader(mnist.test_images, mnist.test_labels, 500), torch.device("cpu"))
    assert accuracy == pytest.approx(shipped["metrics"]["epochs"][-1]["test_acc"], abs=0.005)


@pytest.mark.slow
def test_the_built_package_carries_the_shipped_weights(tmp_path):
    """What `pip install .` or `pip install git+URL` installs: the wheel must hold the default model's weights."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp_path)],
                   check=True, capture_output=True, timeout=600)
    (wheel,) = tmp_path.glob("s6-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read(f"s6/weights/{DEFAULT_MODEL}.pt") == SHIPPED.read_bytes()


def bad_inputs(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "notes.png").write_text("this is not an image")
    Image.new("L", (50, 50), "white").save(tmp_path / "blank.png")
    Image.new("L", (10000, 10000), "white").save(tmp_path / "huge.png")  # 100 million pixels in a 120 kB file
    (tmp_path / "truncated.pt").write_bytes(CHECKPOINT.read_bytes()[:1000])
    (tmp_path / "random.pt").write_bytes(b"\x00" * 4096)
    good = str(tmp_path / "blank.png")
    return {
        "empty image file": ([str(tmp_path / "empty.png")], "not an image"),
        "text file as image": ([str(tmp_path / "notes.png")], "not an image"),
        "blank image": ([good], "no digit found"),
        "huge image": ([str(tmp_path / "huge.png")], "too large to open safely"),
        "missing image": ([str(tmp_path / "nope.png")], "no such file"),
        "missing checkpoint": ([good, "--checkpoint", str(tmp_path / "none.pt")], "no checkpoint"),
        "truncated checkpoint": ([good, "--checkpoint", str(tmp_path / "truncated.pt")], "truncated or damaged"),
        "garbage checkpoint": ([good, "--checkpoint", str(tmp_path / "random.pt")], "not a PyTorch checkpoint"),
        "folder as image": ([str(tmp_path)], "is a folder"),
        "top 11": ([good, "--top", "11"], "only 10 digits"),
    }


@pytest.mark.parametrize("case", ["empty image file", "text file as image", "blank image", "huge image",
                                  "missing image", "missing checkpoint", "truncated checkpoint", "garbage checkpoint",
                                  "top 11", "folder as image"])
def test_bad_input_is_one_line_without_traceback(case, tmp_path):
    args, message = bad_inputs(tmp_path)[case]
    before = folder_bytes(tmp_path)
    result = run_main("predict", *args, "--checkpoint", str(CHECKPOINT)) if "--checkpoint" not in args \
        else run_main("predict", *args)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr  # one mistake, one line: no "using ..." before it
    assert folder_bytes(tmp_path) == before


def test_checkpoint_of_another_version_is_refused(tmp_path):
    checkpoint = torch.load(CHECKPOINT, weights_only=True)
    torch.save({**checkpoint, "format": 99, "version": "9.0"}, tmp_path / "future.pt")
    result = run_main("predict", "x.png", "--checkpoint", str(tmp_path / "future.pt"))
    assert result.returncode == 1 and "format 99" in result.stderr and "Traceback" not in result.stderr


def test_checkpoint_whose_weights_belong_to_another_model_is_refused(tmp_path):
    checkpoint = torch.load(CHECKPOINT, weights_only=True)
    torch.save({**checkpoint, "model": "model3"}, tmp_path / "mislabelled.pt")
    result = run_main("predict", "x.png", "--checkpoint", str(tmp_path / "mislabelled.pt"))
    assert result.returncode == 1 and "do not fit model3" in result.stderr and "Traceback" not in result.stderr


def test_the_demo_page_reads_a_drawing_and_asks_for_one_when_there_is_none():
    """The page's replies, without a server: a drawn 7 is read as 7 and shown as the model saw it; no drawing asks."""
    from s6.inference.demo import read, read_sketch

    classifier = Classifier(CHECKPOINT)
    image = Image.new("L", (300, 300), "white")
    ImageDraw.Draw(image).line([(70, 60), (230, 60), (130, 250)], fill="black", width=28, joint="curve")
    guesses, seen, message = read(classifier, image, "your drawing")
    assert message.startswith("The model reads **7**") and max(guesses, key=guesses.get) == "7"
    assert seen.shape == (224, 224)  # the 28x28 input, each pixel drawn 8x8
    assert read_sketch(classifier, None) == (None, None, "**Draw a digit first.**")


def test_photo_sets_are_the_same_photos_under_the_same_seed(mnist):
    first = photo_set(mnist.test_images, mnist.test_labels, CONDITIONS["shadow across the page"], 3, seed=7)
    again = photo_set(mnist.test_images, mnist.test_labels, CONDITIONS["shadow across the page"], 3, seed=7)
    assert [label for _, label in first] == [int(y) for y in mnist.test_labels[:3]]
    assert all(a.size == (320, 240) and a.mode == "L" and a.tobytes() == b.tobytes()
               for (a, _), (b, _) in zip(first, again))


def components_by_search(mask: torch.Tensor) -> torch.Tensor:
    """The obvious reference: a flood fill per 8-connected component, labelled with its largest flat index + 1."""
    h, w = mask.shape
    labels, seen = torch.zeros(h, w), set()
    for start in zip(*mask.nonzero(as_tuple=True)):
        start = (int(start[0]), int(start[1]))
        if start in seen:
            continue
        component, todo = [], [start]
        seen.add(start)
        while todo:
            y, x = todo.pop()
            component.append((y, x))
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    near = (y + dy, x + dx)
                    if 0 <= near[0] < h and 0 <= near[1] < w and mask[near] and near not in seen:
                        seen.add(near)
                        todo.append(near)
        label = max(y * w + x for y, x in component) + 1
        for y, x in component:
            labels[y, x] = label
    return labels


def test_the_stroke_labels_are_the_connected_components_a_flood_fill_finds():
    """digits._components spreads labels by max-pooling and lets them jump along a stroke; a snake is its worst
    case (one path through the whole image), random masks the common one."""
    from s6.inference.digits import _components

    g = torch.Generator().manual_seed(0)
    masks = [torch.rand(40, 50, generator=g) < density for density in (0.2, 0.4, 0.5, 0.6, 0.8)]
    snake = torch.zeros(41, 41, dtype=torch.bool)
    snake[::4] = True
    for row in range(0, 37, 4):
        snake[row : row + 4, 40 if row % 8 == 0 else 0] = True
    for mask in [*masks, snake, torch.zeros(5, 5, dtype=torch.bool), torch.ones(5, 5, dtype=torch.bool)]:
        assert torch.equal(_components(mask), components_by_search(mask))


@pytest.mark.slow  # starts python -m s6: a warning reaches stderr only outside pytest's own warning capture
def test_a_plain_pickle_given_as_a_checkpoint_is_one_line_without_torchs_warning(tmp_path):
    import pickle

    (tmp_path / "pick.pt").write_bytes(pickle.dumps({"weights": [1, 2, 3]}, protocol=4))
    for args in (["predict", "x.png", "--checkpoint"], ["train", "--resume"]):
        result = run_cli(*args, str(tmp_path / "pick.pt"), cwd=tmp_path)
        assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Warning" not in result.stderr and str(tmp_path / "pick.pt") in result.stderr
