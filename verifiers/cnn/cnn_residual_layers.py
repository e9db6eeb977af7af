"""The two layers CNNs question 4 compares (imported as `cnn_residual_layers`): a plain conv layer
y = f(x; θ) and the same layer with the residual connection, y = f(x; θ) + x."""

import torch.nn as nn

C, K = 4, 3  # channels in = out, kernel size


class Plain(nn.Module):
    def __init__(self):
        super().__init__()
        self.f = nn.Conv2d(C, C, K, padding=1)

    def forward(self, x):
        return self.f(x)


class Residual(Plain):
    def forward(self, x):
        return self.f(x) + x
