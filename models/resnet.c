// resnet.c: CIFAR ResNet-18/34 (MODELS.md): a k3 stem, four stages of
// BasicBlocks (64, 128, 256, 512 wide; stride 2 entering stages 2..4),
// global average pool, one linear layer. The residual add and the final
// ReLU of each block are fused into its second conv node.
#include "model.h"
#include <stdio.h>

static int basic_block(model_builder *b, const char *prefix, int x, int in_planes, int planes, int stride) {
    char conv[48], bn[48], conv_s[48], bn_s[48];
    int shortcut = x;
    if (stride != 1 || in_planes != planes) {
        snprintf(conv_s, sizeof conv_s, "%s.shortcut.0", prefix);
        snprintf(bn_s, sizeof bn_s, "%s.shortcut.1", prefix);
        shortcut = build_conv_bn(b, conv_s, bn_s, x, planes, 1, stride, 0, -1, 0);
    }
    snprintf(conv, sizeof conv, "%s.conv1", prefix);
    snprintf(bn, sizeof bn, "%s.bn1", prefix);
    int h = build_conv_bn(b, conv, bn, x, planes, 3, stride, 1, -1, 1);
    snprintf(conv, sizeof conv, "%s.conv2", prefix);
    snprintf(bn, sizeof bn, "%s.bn2", prefix);
    return build_conv_bn(b, conv, bn, h, planes, 3, 1, 1, shortcut, 1);
}

cascade_status build_resnet(model_builder *b, const int *blocks_per_stage) {
    static const int widths[4] = {64, 128, 256, 512};
    int x = build_conv_bn(b, "conv1", "bn1", 0, 64, 3, 1, 1, -1, 1);
    int in_planes = 64;
    for (int stage = 0; stage < 4; stage++) {
        for (int i = 0; i < blocks_per_stage[stage]; i++) {
            char prefix[32];
            snprintf(prefix, sizeof prefix, "layer%d.%d", stage + 1, i);
            x = basic_block(b, prefix, x, in_planes, widths[stage], i == 0 && stage > 0 ? 2 : 1);
            in_planes = widths[stage];
        }
    }
    x = build_global_avgpool(b, x);
    x = build_linear(b, "linear", x, 10, 0);
    return b->status;
}
