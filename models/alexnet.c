// alexnet.c: the CIFAR AlexNet family (MODELS.md): k3 convs with BatchNorm,
// maxpool after conv1, conv2 and the last conv, then three linear layers.
// widths = (64, 192, 384, 256, 256) for alexnet; shallower variants drop convs.
#include "model.h"
#include <stdio.h>

cascade_status build_alexnet(model_builder *b, const int *widths, int n_convs) {
    int x = 0;
    for (int i = 0; i < n_convs; i++) {
        char conv[16], bn[16];
        snprintf(conv, sizeof conv, "conv%d", i + 1);
        snprintf(bn, sizeof bn, "bn%d", i + 1);
        x = build_conv_bn(b, conv, bn, x, widths[i], 3, 1, 1, -1, 1);
        if (i == 0 || i == 1 || i == n_convs - 1) x = build_maxpool(b, x, 2, 2);
    }
    x = build_flatten(b, x); // widths[last] x 4 x 4
    x = build_linear(b, "fc1", x, 512, 1);
    x = build_linear(b, "fc2", x, 512, 1);
    x = build_linear(b, "fc3", x, 10, 0);
    return b->status;
}
