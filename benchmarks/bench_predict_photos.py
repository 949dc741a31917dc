"""How well `predict` reads photos of digits on paper: accuracy per lighting and paper condition.

MNIST test digits are rendered as phone photos (s6/inference/photos.py: noise, blur, JPEG, the digit small and
off-centre) under each condition, read exactly as `python -m s6 predict` reads a file (the
Classifier: preparation into one 28x28 digit per digit found, left to right, then the model), and
counted right only when the whole answer is right. Per condition, three sets: one digit a fifth to
a third of the photo's height; numbers of 2 to 4 digits side by side; one digit a thirtieth of the
width of a 2000x1500 photo. The last row is the clean MNIST test digits themselves, saved as 28x28
images and read back through the same path, against the model's accuracy on the raw test tensors.

    python benchmarks/bench_predict_photos.py --data-dir ../shared/mnist [--count 200] [--checkpoint PATH]
"""

from __future__ import annotations

import argparse
import time

import torch
from photos import CONDITIONS, number_set, photo_set, small_set
from PIL import Image
from printout import Printout, add_save_option

from s6.device import describe_device
from s6.inference.predict import Classifier
from s6.inference.shipped import SHIPPED
from s6.training.data import load_mnist, resolve_data_dir


def accuracy(classifier: Classifier, photos: list[tuple[Image.Image, int | str]]) -> float:
    """Percent of photos whose whole answer is right (every digit, and no digit more or less)."""
    return 100.0 * sum(classifier.read_number(image) == str(label) for image, label in photos) / len(photos)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None, help="MNIST root (default: $S6_DATA_DIR, else ./data)")
    parser.add_argument("--checkpoint", default=str(SHIPPED),
                        help="checkpoint to classify with (default: the weights shipped with s6)")
    parser.add_argument("--count", type=int, default=200, help="test digits per condition (the first N)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the photo rendering")
    parser.add_argument("--figure", help="also save one photo per condition beside what the model sees (PNG)")
    add_save_option(parser)
    args = parser.parse_args()
    say = Printout("bench_predict_photos.py")

    mnist = load_mnist(resolve_data_dir(args.data_dir))
    classifier, device = Classifier(args.checkpoint), describe_device(torch.device("cpu"))
    say(f"checkpoint: {classifier.describe()}; {args.count} photos per condition and set; on {device}")
    say(f"{'condition':<30}{'one digit':>10}{'numbers':>10}{'small':>10}{'ms/photo':>10}")
    examples, rows = [], []
    images, labels = mnist.test_images, mnist.test_labels
    for name, condition in CONDITIONS.items():
        photos = photo_set(images, labels, condition, args.count, args.seed)
        examples.append(photos[0][0])
        start = time.perf_counter()
        single = accuracy(classifier, photos)
        ms = 1000 * (time.perf_counter() - start) / args.count
        numbers = accuracy(classifier, number_set(images, labels, condition, args.count, seed=args.seed))
        small = accuracy(classifier, small_set(images, labels, condition, args.count, seed=args.seed))
        say(f"{name:<30}{single:>9.1f}%{numbers:>9.1f}%{small:>9.1f}%{ms:>10.1f}")
        rows.append({"condition": name, "one_digit": single, "numbers": numbers, "small": small})
    clean = [(Image.fromarray(images[i].numpy()), int(labels[i])) for i in range(args.count)]
    acc = accuracy(classifier, clean)
    norm = classifier.checkpoint["normalisation"]
    with torch.inference_mode():
        raw = (images[: args.count].float() / 255 - norm["mean"]) / norm["std"]
        direct = 100.0 * float((classifier.model(raw.unsqueeze(1)).argmax(1) == labels[: args.count]).float().mean())
    say(f"{'clean MNIST, through predict':<30}{acc:>9.1f}%   (the raw test tensors: {direct:.1f}%)")
    say.figures = {"device": device, "count": args.count, "conditions": rows,
                   "clean": acc, "raw": direct}
    if args.save:
        say.save(args.save)
    if args.figure:
        save_figure(classifier, examples, args.figure)
        print(f"wrote {args.figure}")


def save_figure(classifier: Classifier, photos: list[Image.Image], path: str) -> None:
    """A row per condition: the photo, then the 28x28 digits the model received from it (predict's own path),
    enlarged, side by side."""
    width, height = photos[0].size
    seen = [torch.cat(list(classifier(photo)[1]), dim=1) for photo in photos]  # one 28-pixel-high strip a photo
    widest = max(strip.shape[1] for strip in seen) * height // 28
    sheet = Image.new("L", (width + widest + 8, len(photos) * (height + 8)), 255)
    for row, (photo, strip) in enumerate(zip(photos, seen, strict=True)):
        top = row * (height + 8)
        sheet.paste(photo, (0, top))
        strip = Image.fromarray((strip * 255).round().byte().numpy())
        sheet.paste(strip.resize((strip.width * height // 28, height), Image.NEAREST), (width + 8, top))
    sheet.resize((sheet.width // 2, sheet.height // 2), Image.LANCZOS).save(path)  # half size: README, not pixels


if __name__ == "__main__":
    main()
