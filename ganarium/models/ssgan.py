"""Semi-supervised GAN (Salimans et al. 2016, "Improved Techniques for Training GANs", Sec. 5).

D is a K+1-class classifier whose fake class has its logit fixed at 0, so
D(x) = Z(x) / (Z(x) + 1) with Z(x) = sum_k exp l_k(x). Its loss is L_supervised + L_unsupervised:

    L_sup   = -E_{x,y labelled} log p(y | x, y < K+1)        (cross-entropy on the K logits)
    L_unsup = -E_x log D(x) - E_z log(1 - D(G(z)))          (on logsumexp of the K logits)

G uses feature matching by default. Each improved technique is a switch: ``feature_matching``
(Sec. 3.1), ``minibatch_kernels`` > 0 for minibatch discrimination (Sec. 3.2),
``historical_weight`` > 0 for historical averaging of both players (Sec. 3.3) and
``label_smoothing`` > 0 for one-sided smoothing of the real target (Sec. 3.4).
Unlabelled training examples carry label -1 (digits ``labels_per_class``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ganarium.capabilities.classifier import Classifier
from ganarium.data import DataInfo
from ganarium.hparams import fraction, loss_weight, override, switch, whole
from ganarium.models import Batch, LearningCheck, Phase, StepContext, StepOutput, register
from ganarium.models._labelled import SEMI_SUPERVISED_CHECK, LabelMemory, noise_std, supervised_loss
from ganarium.models.adversarial import AdversarialRecipe
from ganarium.nets.classifier import FeatureClassifier, feature_classifier
from ganarium.nn.minibatch import MinibatchDiscrimination
from ganarium.techniques.historical import PlayerHistories
from ganarium.techniques.improved import one_sided_smoothed_d_loss
from ganarium.techniques.losses import non_saturating_g
from ganarium.techniques.regularizers import feature_matching


@register(
    "ssgan",
    paper="Improved Techniques for Training GANs (semi-supervised)",
    year=2016,
    family="semi-supervised",
    data=("labelled",),
    check=LearningCheck(
        **{
            **SEMI_SUPERVISED_CHECK,
            "steps": 1500,
            "reason": "1500 steps: at 1000, with oneDNN limited to AVX2, seed 1 reached 0.842 "
            "against the bar of 0.854",
        }
    ),
)
class SSGAN(Classifier, AdversarialRecipe):
    requires_labels = True

    @dataclass
    class Hparams(AdversarialRecipe.Hparams):
        net: str = override("dcgan")
        d_norm: str = override("layer")
        lr_g: float = override(0.003)
        lr_d: float = override(0.003)
        feature_matching: bool = switch(True, "G matches D's mean features instead of fooling D")
        minibatch_kernels: int = whole(
            0, "minibatch discrimination kernels on D's features (0: off)", minimum=0
        )
        historical_weight: float = loss_weight(
            0.0, "weight of historical averaging of both players (0: off)"
        )
        label_smoothing: float = fraction(0.0, "one-sided smoothing of D's real target (0: off)")
        unsup_weight: float = loss_weight(1.0, "weight of the unsupervised real/fake term")
        label_memory: int = whole(512, "how many labelled examples the label memory keeps")
        input_noise: float = noise_std(0.3, "std of Gaussian noise on D's input while training")

    def build(self, info: DataInfo) -> None:
        super().build(info)  # conditional=False: G and D never see labels
        self.num_classes = info.num_classes
        self.cls_head, self.mbd = self._make_head()
        self.memory = LabelMemory(self.hp.label_memory)
        d_params = [*self.D.parameters(), *self.cls_head.parameters()]
        self.history = PlayerHistories(
            self.hp.historical_weight, {"D": d_params, "G": self.G.parameters()}
        )

    def _make_head(self) -> tuple[nn.Module, nn.Module]:
        f, k = self.D.feature_dim, self.hp.minibatch_kernels
        mbd = MinibatchDiscrimination(f, k) if k else nn.Identity()
        return nn.Linear(f + k, self.num_classes), mbd

    def extra_state(self) -> dict[str, Any]:
        return {"memory": self.memory.state_dict(), "history": self.history.state_dict()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.memory.load_state_dict(state["memory"])
        self.history.load_state_dict(state["history"])

    # -- the classifier ----------------------------------------------------------------------
    def classifier(self) -> FeatureClassifier:
        """D as a K-class classifier (a view sharing D's weights)."""
        view = FeatureClassifier(self.D, self.cls_head, self.mbd, self.hp.input_noise)
        return view.train(self.training)

    def make_classifier(self) -> FeatureClassifier:
        """A fresh classifier of the same architecture, for the labels-only baseline."""
        k = self.hp.minibatch_kernels
        net = self.net_family_name(self.info)
        clf = feature_classifier(
            self.info, net, self.hp.d_width, self.hp.d_norm, k, self.hp.input_noise
        )
        if k:
            clf.extra = MinibatchDiscrimination(self.D.feature_dim, k)
        return clf.to(self.device)

    def classifier_optimizer(self, params) -> torch.optim.Optimizer:
        """How the classifier (D) is optimised; the labels-only baseline uses the same."""
        return self.make_optimizer(params, self.hp.lr_d)

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        d_params = [*self.D.parameters(), *self.cls_head.parameters(), *self.mbd.parameters()]
        return {
            "G": self.make_optimizer(self.G.parameters(), self.hp.lr_g),
            "D": self.classifier_optimizer(d_params),
        }

    def phases(self) -> list[Phase]:
        after = self.history.updater
        d = Phase("D", self.d_loss, "D", repeat=self.hp.n_critic, after=after("D"))
        # feature matching shows D real images
        g = Phase(
            "G",
            self.g_loss,
            "G",
            after=after("G"),
            real=self.hp.feature_matching,
            images=self.hp.feature_matching,
        )
        return [d, g]

    # -- losses ------------------------------------------------------------------------------
    def d_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        real = batch["image"]
        self.memory.add(real, batch["label"])
        clf = self.classifier()
        with torch.no_grad():
            fake = self.G(self.latent.sample(real.shape[0], real.device))
        lse_real = clf(self.augmenter(real)).logsumexp(1)
        lse_fake = clf(self.augmenter(fake)).logsumexp(1)
        self.augmenter.observe(lse_real.detach())  # D's real logit: log Z(x) (Sec. 5)
        unsup = one_sided_smoothed_d_loss(lse_real, lse_fake, self.hp.label_smoothing)
        loss, logs = self.hp.unsup_weight * unsup, {"unsup": unsup.detach()}
        sup = supervised_loss(clf, self.memory.sample(real.shape[0]))
        if sup is not None:
            loss, logs = loss + sup[0], logs | sup[1]
        return self.history.added("D", loss), logs

    def g_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        real = batch["image"]
        fake = self.G(self.latent.sample(real.shape[0], real.device))
        clf = self.classifier()
        h_fake = clf.features(self.augmenter(fake))
        if self.hp.feature_matching:
            loss = feature_matching(clf.features(self.augmenter(real)), h_fake)
        else:
            loss = non_saturating_g(clf.logits_from(h_fake).logsumexp(1))
        return self.history.added("G", loss), {}
