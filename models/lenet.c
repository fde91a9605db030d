// lenet.c: LeNet-5 for CIFAR-10 (MODELS.md): conv5 -> pool -> conv5 -> pool -> 3 linear layers.
#include "model.h"

cascade_status build_lenet(model_builder *b) {
    int x = 0;
    x = build_conv_bias(b, "conv1", x, 6, 5, 1);   // 3x32x32 -> 6x28x28
    x = build_maxpool(b, x, 2, 2);                 // -> 6x14x14
    x = build_conv_bias(b, "conv2", x, 16, 5, 1);  // -> 16x10x10
    x = build_maxpool(b, x, 2, 2);                 // -> 16x5x5
    x = build_flatten(b, x);                       // -> 400
    x = build_linear(b, "fc1", x, 120, 1);
    x = build_linear(b, "fc2", x, 84, 1);
    x = build_linear(b, "fc3", x, 10, 0);
    return b->status;
}
