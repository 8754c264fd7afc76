// Compiles the precompiled LibTorch header once; see cmake/Torch.cmake.
