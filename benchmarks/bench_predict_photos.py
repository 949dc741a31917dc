"""How well `predict` reads photos of digits on paper: accuracy per lighting and paper condition.

MNIST test digits are rendered as phone photos (s6/photos.py: noise, blur, JPEG, the digit small and
off-centre) under each condition, prepared by predict's own `to_mnist`, and classified with a
checkpoint. The last row is the clean MNIST test digits themselves, saved as 28x28 images and read
back through the same preparation, against the model's accuracy on the raw test tensors.

    python benchmarks/bench_predict_photos.py --data-dir ../shared/mnist [--count 200] [--checkpoint PATH]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from PIL import Image

from s6.data import load_mnist, resolve_data_dir
from s6.photos import CONDITIONS, photo_set
from s6.predict import classify, load_classifier, to_mnist

DEFAULT_CHECKPOINT = Path(__file__).resolve().parent.parent / "results" / "model2" / "seed1" / "checkpoint.pt"


def accuracy(model: torch.nn.Module, norm: dict, images: list[Image.Image], labels: list[int]) -> float:
    digits = torch.stack([to_mnist(image) for image in images])
    predicted = classify(model, digits, norm["mean"], norm["std"]).argmax(1)
    return 100.0 * float((predicted == torch.tensor(labels)).float().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None, help="MNIST root (default: $S6_DATA_DIR, else ./data)")
    parser.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT), help="checkpoint to classify with")
    parser.add_argument("--count", type=int, default=200, help="test digits per condition (the first N)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the photo rendering")
    parser.add_argument("--figure", help="also save one photo per condition beside what the model sees (PNG)")
    args = parser.parse_args()

    mnist = load_mnist(resolve_data_dir(args.data_dir))
    model, checkpoint = load_classifier(args.checkpoint)
    norm = checkpoint["normalisation"]
    print(f"checkpoint: {args.checkpoint} ({checkpoint['model']}); {args.count} test digits per condition")
    print(f"{'condition':<30}{'accuracy':>10}{'ms/image':>10}")
    examples = []
    for name, condition in CONDITIONS.items():
        photos = photo_set(mnist.test_images, mnist.test_labels, condition, args.count, args.seed)
        examples.append(photos[0][0])
        start = time.perf_counter()
        acc = accuracy(model, norm, [p for p, _ in photos], [label for _, label in photos])
        ms = 1000 * (time.perf_counter() - start) / args.count
        print(f"{name:<30}{acc:>9.1f}%{ms:>10.1f}")
    clean = [Image.fromarray(mnist.test_images[i].numpy()) for i in range(args.count)]
    labels = [int(y) for y in mnist.test_labels[: args.count]]
    acc = accuracy(model, norm, clean, labels)
    with torch.inference_mode():
        raw = (mnist.test_images[: args.count].float() / 255 - norm["mean"]) / norm["std"]
        direct = 100.0 * float((model(raw.unsqueeze(1)).argmax(1) == mnist.test_labels[: args.count]).float().mean())
    print(f"{'clean MNIST, through predict':<30}{acc:>9.1f}%   (the raw test tensors: {direct:.1f}%)")
    if args.figure:
        save_figure(examples, args.figure)
        print(f"wrote {args.figure}")


def save_figure(photos: list[Image.Image], path: str) -> None:
    """A row per condition: the photo, then the 28x28 digit predict gives the model, enlarged."""
    width, height = photos[0].size
    sheet = Image.new("L", (width + height + 8, len(photos) * (height + 8)), 255)
    for row, photo in enumerate(photos):
        top = row * (height + 8)
        sheet.paste(photo, (0, top))
        seen = Image.fromarray((to_mnist(photo) * 255).round().byte().numpy()).resize((height, height), Image.NEAREST)
        sheet.paste(seen, (width + 8, top))
    sheet.resize((sheet.width // 2, sheet.height // 2), Image.LANCZOS).save(path)  # half size: README, not pixels


if __name__ == "__main__":
    main()
