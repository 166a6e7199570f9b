// oneDNN's CPU convolutions as XLA FFI custom calls (forward, data gradient,
// weight gradient), for jaxbip/models/onednn_conv.py.
//
// XLA:CPU's own convolution kernels run ResNet-sized 3x3 convolutions at
// 90-200 GFLOP/s on the 2-core Zen 4 machine this was written on; oneDNN's
// avx512 kernels (the ones PyTorch uses) at 210-245. Layouts: activations
// NHWC, kernels HWIO, float32 only.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <utility>
#include <vector>

#include "dnnl.hpp"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;
using dnnl::memory;
using tag = memory::format_tag;

namespace {

dnnl::engine& Engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// Shapes of one convolution, in oneDNN's (N, C, H, W) / (O, I, H, W) order.
struct Shape {
  memory::dims src, weights, dst, strides, pad_lo, pad_hi;
  auto Key() const {
    return std::make_tuple(src, weights, dst, strides, pad_lo, pad_hi);
  }
};

// Primitive descriptors are costly to create (they pick and JIT a kernel),
// so one set per shape is kept for the life of the process.
struct Primitives {
  dnnl::convolution_forward::primitive_desc fwd_pd;
  dnnl::convolution_backward_data::primitive_desc bwd_data_pd;
  dnnl::convolution_backward_weights::primitive_desc bwd_weights_pd;
  dnnl::convolution_forward fwd;
  dnnl::convolution_backward_data bwd_data;
  dnnl::convolution_backward_weights bwd_weights;
};

// One convolution at a time: each runs on all cores (OpenMP), and XLA would
// otherwise start independent ones (a layer's data and weight gradients)
// together, oversubscribing the cores.
std::mutex& ExecutionLock() {
  static std::mutex mutex;
  return mutex;
}

memory::desc Activations(const memory::dims& dims) {
  return memory::desc(dims, memory::data_type::f32, tag::nhwc);
}

memory::desc UserWeights(const memory::dims& dims) {
  return memory::desc(dims, memory::data_type::f32, tag::hwio);
}

const Primitives& Get(const Shape& s) {
  static std::mutex mutex;
  static std::map<decltype(s.Key()), std::unique_ptr<Primitives>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = cache[s.Key()];
  if (!slot) {
    auto& eng = Engine();
    auto src = Activations(s.src), dst = Activations(s.dst);
    // "any": let oneDNN choose its blocked kernel layout; HWIO is reordered.
    auto weights =
        memory::desc(s.weights, memory::data_type::f32, tag::any);
    auto algo = dnnl::algorithm::convolution_direct;
    // Each call brings its own scratchpad: with the library's global one,
    // calls from two XLA devices' threads at once would share it.
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    dnnl::convolution_forward::primitive_desc fwd_pd(
        dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training,
                                        algo, src, weights, dst, s.strides,
                                        s.pad_lo, s.pad_hi),
        attr, eng);
    dnnl::convolution_backward_data::primitive_desc bwd_data_pd(
        dnnl::convolution_backward_data::desc(algo, src, weights, dst,
                                              s.strides, s.pad_lo, s.pad_hi),
        attr, eng, fwd_pd);
    dnnl::convolution_backward_weights::primitive_desc bwd_weights_pd(
        dnnl::convolution_backward_weights::desc(
            algo, src, weights, dst, s.strides, s.pad_lo, s.pad_hi),
        attr, eng, fwd_pd);
    slot.reset(new Primitives{fwd_pd, bwd_data_pd, bwd_weights_pd,
                              dnnl::convolution_forward(fwd_pd),
                              dnnl::convolution_backward_data(bwd_data_pd),
                              dnnl::convolution_backward_weights(
                                  bwd_weights_pd)});
  }
  return *slot;
}

Shape MakeShape(ffi::Span<const int64_t> x, ffi::Span<const int64_t> w,
                ffi::Span<const int64_t> y, int64_t stride_h,
                int64_t stride_w, int64_t pad_top, int64_t pad_bottom,
                int64_t pad_left, int64_t pad_right) {
  // x: NHWC, w: HWIO, y: NHWC.
  return Shape{{x[0], x[3], x[1], x[2]},
               {w[3], w[2], w[0], w[1]},
               {y[0], y[3], y[1], y[2]},
               {stride_h, stride_w},
               {pad_top, pad_left},
               {pad_bottom, pad_right}};
}

// The user's HWIO kernel in the layout a primitive wants (a copy if needed).
memory KernelFor(const memory::desc& wanted, const memory::dims& dims,
                 void* data, dnnl::stream& stream) {
  memory user(UserWeights(dims), Engine(), data);
  if (wanted == user.get_desc()) return user;
  memory out(wanted, Engine());
  dnnl::reorder(user, out).execute(stream, user, out);
  return out;
}

ffi::Error Forward(ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> w,
                   ffi::ResultBuffer<ffi::F32> y, int64_t stride_h,
                   int64_t stride_w, int64_t pad_top, int64_t pad_bottom,
                   int64_t pad_left, int64_t pad_right) {
  Shape s = MakeShape(x.dimensions(), w.dimensions(), y->dimensions(),
                      stride_h, stride_w, pad_top, pad_bottom, pad_left,
                      pad_right);
  const Primitives& p = Get(s);
  std::lock_guard<std::mutex> lock(ExecutionLock());
  dnnl::stream stream(Engine());
  memory kernel = KernelFor(p.fwd_pd.weights_desc(), s.weights,
                            w.typed_data(), stream);
  memory src(Activations(s.src), Engine(), x.typed_data());
  memory dst(Activations(s.dst), Engine(), y->typed_data());
  memory scratchpad(p.fwd_pd.scratchpad_desc(), Engine());
  p.fwd.execute(stream, {{DNNL_ARG_SRC, src},
                         {DNNL_ARG_WEIGHTS, kernel},
                         {DNNL_ARG_DST, dst},
                         {DNNL_ARG_SCRATCHPAD, scratchpad}});
  stream.wait();
  return ffi::Error::Success();
}

ffi::Error DataGradient(ffi::Buffer<ffi::F32> dy, ffi::Buffer<ffi::F32> w,
                        ffi::ResultBuffer<ffi::F32> dx, int64_t stride_h,
                        int64_t stride_w, int64_t pad_top,
                        int64_t pad_bottom, int64_t pad_left,
                        int64_t pad_right) {
  Shape s = MakeShape(dx->dimensions(), w.dimensions(), dy.dimensions(),
                      stride_h, stride_w, pad_top, pad_bottom, pad_left,
                      pad_right);
  const Primitives& p = Get(s);
  std::lock_guard<std::mutex> lock(ExecutionLock());
  dnnl::stream stream(Engine());
  memory kernel = KernelFor(p.bwd_data_pd.weights_desc(), s.weights,
                            w.typed_data(), stream);
  memory diff_dst(Activations(s.dst), Engine(), dy.typed_data());
  memory diff_src(Activations(s.src), Engine(), dx->typed_data());
  memory scratchpad(p.bwd_data_pd.scratchpad_desc(), Engine());
  p.bwd_data.execute(stream, {{DNNL_ARG_DIFF_DST, diff_dst},
                              {DNNL_ARG_WEIGHTS, kernel},
                              {DNNL_ARG_DIFF_SRC, diff_src},
                              {DNNL_ARG_SCRATCHPAD, scratchpad}});
  stream.wait();
  return ffi::Error::Success();
}

ffi::Error WeightGradient(ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> dy,
                          ffi::ResultBuffer<ffi::F32> dw, int64_t stride_h,
                          int64_t stride_w, int64_t pad_top,
                          int64_t pad_bottom, int64_t pad_left,
                          int64_t pad_right) {
  Shape s = MakeShape(x.dimensions(), dw->dimensions(), dy.dimensions(),
                      stride_h, stride_w, pad_top, pad_bottom, pad_left,
                      pad_right);
  const Primitives& p = Get(s);
  std::lock_guard<std::mutex> lock(ExecutionLock());
  dnnl::stream stream(Engine());
  memory src(Activations(s.src), Engine(), x.typed_data());
  memory diff_dst(Activations(s.dst), Engine(), dy.typed_data());
  memory user(UserWeights(s.weights), Engine(), dw->typed_data());
  const memory::desc& wanted = p.bwd_weights_pd.diff_weights_desc();
  memory diff_weights = wanted == user.get_desc() ? user
                                                  : memory(wanted, Engine());
  memory scratchpad(p.bwd_weights_pd.scratchpad_desc(), Engine());
  p.bwd_weights.execute(stream, {{DNNL_ARG_SRC, src},
                                 {DNNL_ARG_DIFF_DST, diff_dst},
                                 {DNNL_ARG_DIFF_WEIGHTS, diff_weights},
                                 {DNNL_ARG_SCRATCHPAD, scratchpad}});
  if (diff_weights != user) {
    dnnl::reorder(diff_weights, user).execute(stream, diff_weights, user);
  }
  stream.wait();
  return ffi::Error::Success();
}

template <typename Binding>
auto WithConvAttrs(Binding binding) {
  return std::move(binding)
      .template Attr<int64_t>("stride_h")
      .template Attr<int64_t>("stride_w")
      .template Attr<int64_t>("pad_top")
      .template Attr<int64_t>("pad_bottom")
      .template Attr<int64_t>("pad_left")
      .template Attr<int64_t>("pad_right");
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(
    JaxbipConvForward, Forward,
    WithConvAttrs(ffi::Ffi::Bind()
                      .Arg<ffi::Buffer<ffi::F32>>()
                      .Arg<ffi::Buffer<ffi::F32>>()
                      .Ret<ffi::Buffer<ffi::F32>>()));

XLA_FFI_DEFINE_HANDLER_SYMBOL(
    JaxbipConvDataGradient, DataGradient,
    WithConvAttrs(ffi::Ffi::Bind()
                      .Arg<ffi::Buffer<ffi::F32>>()
                      .Arg<ffi::Buffer<ffi::F32>>()
                      .Ret<ffi::Buffer<ffi::F32>>()));

XLA_FFI_DEFINE_HANDLER_SYMBOL(
    JaxbipConvWeightGradient, WeightGradient,
    WithConvAttrs(ffi::Ffi::Bind()
                      .Arg<ffi::Buffer<ffi::F32>>()
                      .Arg<ffi::Buffer<ffi::F32>>()
                      .Ret<ffi::Buffer<ffi::F32>>()));
