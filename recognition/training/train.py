"""Fine-tuning the plate recogniser on CPU (needs torch: the training virtualenv, see README).

Each epoch draws a fresh mix of samples: the real crops of the training split (degraded as a
camera would), and renders of European, UK, Mercosul and North American plates (their texts
also of the training split). The validation split is fixed: its real crops and renders with
one set of degradations, drawn once from the seed. After every epoch the exact-read rate on it
(the mean over its groups, so that no region outweighs another) decides: the best epoch is
kept, and training stops when ``patience`` epochs bring nothing better. Every epoch leaves a
checkpoint, so an interrupted run resumes where it was (``--resume``), with the same result.
"""

import json
import time
from pathlib import Path

import numpy as np
import torch

from ..platemodel import ALPHABET, prepare
from . import data, heldout
from .augment import degrade
from .model import check_export, export, freeze_batchnorm, plate_network
from .render import Renderer

#: Where the samples of an epoch come from, with their shares.
MIX = {"us": 0.20, "br": 0.10, "br-synthetic": 0.05, "render-US": 0.27, "render-EU": 0.27, "render-BR": 0.06,
       "render-UK": 0.05}
SITE_SHARE = 0.25    # crops exported from a site (parkgate training export), when given
PSEUDO_SHARE = 0.15  # pseudo-labelled real EU crops (pseudo.py), when given: taken from render-EU's share
VALIDATION_RENDERS = heldout.RENDERS


class Samples:
    """Training and validation samples, all drawn from generators seeded by (seed, purpose)."""

    def __init__(self, root, seed, sites=(), renders=VALIDATION_RENDERS, mix=None, far=0.0, pseudo=()):
        self.seed = seed
        self.sites = sites
        self.far = far
        self.real = {}
        for crop in data.crops(root, "train", sites=sites, pseudo=pseudo):
            self.real.setdefault(crop.source, []).append((crop.image(), crop.plate))
        self.mix = {s: share for s, share in (mix or MIX).items() if s.startswith("render-") or s in self.real}
        if "site" in self.real:
            self.mix["site"] = SITE_SHARE
        if "pseudo" in self.real and "pseudo" not in self.mix:
            self.mix["pseudo"] = PSEUDO_SHARE
            self.mix["render-EU"] = max(0.0, self.mix.get("render-EU", 0.0) - PSEUDO_SHARE)
        self.validation = heldout.samples(root, "validation", seed, renders, sites, pseudo=pseudo)

    def epoch(self, epoch, size):
        """``size`` (image, text) pairs, the same for the same seed and epoch."""
        rng = np.random.default_rng([self.seed, 2, epoch])
        renderer = Renderer(rng, "train")
        sources = list(self.mix)
        shares = np.array([self.mix[s] for s in sources])
        picks = rng.choice(len(sources), size=size, p=shares / shares.sum())
        out = []
        for pick in picks:
            source = sources[pick]
            if source.startswith("render-"):
                plate = renderer.render(source.split("-")[1])
                out.append((degrade(rng, plate.image, plate.box, far=self.far), plate.plate))
            else:
                image, plate = self.real[source][rng.integers(len(self.real[source]))]
                out.append((degrade(rng, image, far=self.far), plate))
        return out


def batches(samples, size):
    for i in range(0, len(samples), size):
        chunk = samples[i:i + size]
        x = torch.from_numpy(np.stack([prepare(image) for image, _ in chunk]))
        targets = [torch.tensor([ALPHABET.index(c) + 1 for c in text]) for _, text in chunk]
        yield x, targets, [text for _, text in chunk]


def evaluate(net, groups, batch=64):
    """{group: exact-read share} on the validation samples, and their mean."""
    from ..platemodel import decode
    net.eval()
    scores = {}
    with torch.no_grad():
        for name, samples in groups.items():
            right = 0
            for x, _, texts in batches(samples, batch):
                probs = torch.softmax(net(x), -1).numpy()
                right += sum(decode(p).text == t for p, t in zip(probs, texts))
            scores[name] = right / max(len(samples), 1)
    freeze_batchnorm(net.train())
    return scores, float(np.mean(list(scores.values())))


def train(root, recogniser, out, work, seed=1, epochs=8, epoch_size=3000, batch=32, lr=3e-4, patience=3,
          threads=2, resume=False, sites=(), validation_renders=VALIDATION_RENDERS, log=print, mix=None, far=0.0,
          pseudo=()):
    """Train, keep the best epoch, export it to ``out`` (ONNX); returns the training record.
    ``far``: the share of degraded training samples seen by a far camera (``augment.FAR``);
    ``pseudo``: folders of pseudo-labelled crops (source ``pseudo``, its share from ``mix``)."""
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    net, _ = plate_network(recogniser)
    freeze_batchnorm(net.train())
    steps_per_epoch = -(-epoch_size // batch)
    optimiser = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=lr, total_steps=epochs * steps_per_epoch,
                                                   pct_start=0.05, anneal_strategy="cos")
    ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    record = {"seed": seed, "epochs": [], "best": None, "elapsed_s": 0.0}
    checkpoint = work / "checkpoint.pt"
    if resume and checkpoint.is_file():
        state = torch.load(checkpoint, weights_only=False)
        net.load_state_dict(state["net"])
        optimiser.load_state_dict(state["optimiser"])
        schedule.load_state_dict(state["schedule"])
        record = state["record"]
        torch.set_rng_state(state["torch_rng"])
        log(f"resumed after epoch {len(record['epochs'])}")
    log("loading crops and the validation split")
    samples = Samples(root, seed, sites, validation_renders, mix, far, pseudo)
    log(f"train crops: {', '.join(f'{k} {len(v)}' for k, v in samples.real.items())}; validation: "
        f"{', '.join(f'{k} {len(v)}' for k, v in samples.validation.items())}")
    if not record["epochs"]:
        scores, mean = evaluate(net, samples.validation)
        record["start"] = {"scores": scores, "mean": mean}
        log(f"before training: validation {mean:.3f} {json.dumps({k: round(v, 3) for k, v in scores.items()})}")
    while len(record["epochs"]) < epochs and not record.get("stopped"):
        epoch = len(record["epochs"])
        t = time.monotonic()
        losses = []
        for x, targets, _ in batches(samples.epoch(epoch, epoch_size), batch):
            log_probs = torch.log_softmax(net(x), -1).permute(1, 0, 2)   # (steps, batch, classes)
            lengths = torch.tensor([len(t) for t in targets])
            loss = ctc(log_probs, torch.cat(targets), torch.full((x.shape[0],), log_probs.shape[0]), lengths)
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            optimiser.step()
            schedule.step()
            losses.append(float(loss))
        scores, mean = evaluate(net, samples.validation)
        record["epochs"].append({"loss": float(np.mean(losses)), "validation": mean, "scores": scores,
                                 "seconds": round(time.monotonic() - t, 1)})
        record["elapsed_s"] = record.get("elapsed_s", 0.0) + time.monotonic() - t
        log(f"epoch {epoch + 1}: loss {np.mean(losses):.3f} validation {mean:.3f} "
            f"{json.dumps({k: round(v, 3) for k, v in scores.items()})} ({time.monotonic() - t:.0f} s)")
        if record["best"] is None or mean > record["epochs"][record["best"]]["validation"]:
            record["best"] = epoch
            torch.save(net.state_dict(), work / "best.pt")
        if epoch - record["best"] >= patience:
            log(f"no better epoch in {patience}: stopping")
            record["stopped"] = True
        torch.save({"net": net.state_dict(), "optimiser": optimiser.state_dict(), "schedule": schedule.state_dict(),
                    "record": record, "torch_rng": torch.get_rng_state()}, checkpoint)
    net.load_state_dict(torch.load(work / "best.pt"))
    export(net, out)
    if not check_export(net, out):
        raise RuntimeError("the exported ONNX file does not compute what the network computes")
    record["last_run_s"] = round(time.monotonic() - started, 1)   # this process (a resumed run: since resuming)
    log(f"best epoch {record['best'] + 1} (validation {record['epochs'][record['best']]['validation']:.3f}); "
        f"exported to {out}")
    return record
