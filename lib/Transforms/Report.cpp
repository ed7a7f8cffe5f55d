//===- Report.cpp - a compilation as one self-contained HTML page ---------===//
//
// The drawing is an arc diagram: one row per op in program order, the main
// path as short vertical links and every other edge (skips, SE gates, a
// second operand) as an arc on the right, bulging with its length. It stays
// readable for any DAG, a few hundred rows at most, and needs no layout
// engine. A block's row shows its branches as chips ("3x3·bn", "id").
//
//===----------------------------------------------------------------------===//

#include "mobileone/Transforms/Report.h"
#include "mobileone/Dialect/MobileOne/MobileOneOps.h"
#include "mobileone/Transforms/Cost.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::mobileone;

namespace {

std::string esc(StringRef s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    case '\'': out += "&#39;"; break;
    default:
      // Control bytes from a hostile node name would make the page invalid.
      out += (static_cast<unsigned char>(c) < 0x20 && c != '\n') ? '?' : c;
    }
  }
  return out;
}

std::string shapeOf(Type t) {
  auto r = dyn_cast<RankedTensorType>(t);
  if (!r)
    return "?";
  std::string s;
  for (int64_t d : r.getShape())
    s += (s.empty() ? "" : "x") +
         (ShapedType::isDynamic(d) ? std::string("?") : std::to_string(d));
  return s.empty() ? "scalar" : s;
}

std::string count(int64_t n) {
  if (n >= 1000000)
    return llvm::formatv("{0:f2} M", n / 1e6).str();
  if (n >= 1000)
    return llvm::formatv("{0:f1} K", n / 1e3).str();
  return std::to_string(n);
}

std::string bytes(int64_t n) {
  if (n >= (1 << 20))
    return llvm::formatv("{0:f2} MiB", n / double(1 << 20)).str();
  return llvm::formatv("{0:f1} KiB", n / 1024.0).str();
}

std::string ratio(int64_t before, int64_t after) {
  if (before == 0)
    return "";
  return llvm::formatv("{0:f2}x", double(after) / double(before)).str();
}

std::string nodeName(Location loc) {
  if (auto n = dyn_cast<NameLoc>(loc))
    return n.getName().str();
  if (auto f = dyn_cast<FusedLoc>(loc)) {
    std::string s;
    for (Location l : f.getLocations())
      if (auto n = dyn_cast<NameLoc>(l))
        s += (s.empty() ? "" : ", ") + n.getName().str();
    return s;
  }
  return "";
}


struct StageRow {
  Cost before, after;
  int64_t opsBefore = 0, opsAfter = 0;
};

//===----------------------------------------------------------------------===//
// Remarks of --explain
//===----------------------------------------------------------------------===//

struct Fused {
  std::string node, root, branches, kernel;
};

struct Refusal {
  std::string example;
  SmallVector<std::string> nodes;
};

/// Why a non-fusion is expected (a join of paths with no common linear
/// input, the cost model's choice, a composition no single conv can express
/// exactly), or
/// empty for one the compiler missed (no rule composes the ops).
std::string expectedBecause(StringRef reason) {
  if (reason.contains("not linear in one common input"))
    return "a join of paths that are not linear in one common input (a "
           "residual add after a nonlinearity, a squeeze-excite gate, or "
           "two regions the cost model kept apart)";
  if (reason.contains(" would cost ") && reason.contains("multiply-adds"))
    return "the cost model: one conv would do more work than the ops in "
           "sequence";
  if (reason.contains("zero-padded conv follows") ||
      reason.contains("zero padding follows"))
    return "no single conv is exact: the zero border of the second conv is "
           "not the first map's output there";
  return "";
}

/// "fused 9 ops of 'x' (branches: a, b) into one 3x3 conv (stride 1, group 1)"
std::optional<Fused> parseFused(const ExplainRemark &r) {
  StringRef t = r.text;
  if (!t.consume_front("fused "))
    return std::nullopt;
  Fused f;
  f.node = r.node;
  size_t of = t.find(" of "), br = t.find(" (branches: "),
         into = t.rfind(") into one ");
  if (of == StringRef::npos || br == StringRef::npos || into == StringRef::npos ||
      into < br)
    return Fused{r.node, "", "", r.text};
  f.root = t.slice(of + 4, br).trim("'").str();
  f.branches = t.slice(br + 12, into).str();
  f.kernel = t.substr(into + 11).str();
  return f;
}

/// Insertion-ordered string keys (MapVector needs DenseMap-able keys).
template <typename T> struct Ordered {
  std::vector<std::pair<std::string, T>> items;
  T &operator[](const std::string &key) {
    for (auto &item : items)
      if (item.first == key)
        return item.second;
    items.push_back({key, T()});
    return items.back().second;
  }
};

/// The reason with names and numbers blanked, so that one reason groups.
std::string reasonKey(StringRef text) {
  std::string key;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\'') {
      quoted = !quoted;
      if (quoted)
        key += "'…'";
      continue;
    }
    if (quoted)
      continue;
    if (llvm::isDigit(c)) {
      if (key.empty() || key.back() != '#')
        key += '#';
      continue;
    }
    key += c;
  }
  return key;
}

//===----------------------------------------------------------------------===//
// The drawing
//===----------------------------------------------------------------------===//

struct Style {
  const char *kind, *stroke, *fill;
};
const Style kStyles[] = {
    {"conv", "#4e79a7", "#dbe7f3"},   {"block", "#e8790f", "#fde3c8"},
    {"act", "#4c8c43", "#dcefd8"},    {"pool", "#8e5a84", "#efe0ec"},
    {"dense", "#c9363a", "#f9dcdc"},  {"arith", "#7a7a7a", "#ececec"},
    {"layout", "#9a8f8a", "#f7f5f4"}, {"io", "#333333", "#ffffff"},
    {"other", "#b07aa1", "#ffffff"},
};

const char *kindOf(Operation *op) {
  if (isa<Conv2DOp, ConvTranspose2DOp>(op))
    return "conv";
  if (isa<BlockOp>(op))
    return "block";
  // By the ops' ODS traits: an op added to the dialect is drawn by what it
  // declares it is.
  if (op->hasTrait<OpTrait::MobileOneDataMovement>())
    return "layout";
  if (op->hasTrait<OpTrait::MobileOneElementwise>())
    return op->getNumOperands() == 1 ? "act" : "arith";
  if (isa<SoftmaxOp>(op))
    return "act";
  if (isa<GlobalAvgPoolOp, MaxPoolOp, AvgPoolOp, ReduceMeanOp, ReduceSumOp,
          ReduceMaxOp, SqueezeExciteOp, ResizeOp, ArgMaxOp>(op))
    return "pool";
  if (isa<LinearOp, MatMulOp>(op))
    return "dense";
  if (isa<BatchNormOp, LayerNormOp>(op))
    return "arith";
  // Not drawn as one of the above: said so by its own style.
  return "other";
}

std::string convLabel(int64_t kh, int64_t kw, int64_t stride, int64_t in,
                      int64_t out, int64_t group) {
  std::string s = std::to_string(kh) + "x" + std::to_string(kw);
  if (stride > 1)
    s += "/" + std::to_string(stride);
  s += " " + std::to_string(in) + "→" + std::to_string(out);
  if (group > 1)
    s += group == in && group == out ? " dw" : " g" + std::to_string(group);
  return s;
}

std::string labelOf(Operation *op) {
  if (auto conv = dyn_cast<Conv2DOp>(op)) {
    auto w = conv.getWeight().getType();
    return "conv " + convLabel(conv.getKernelH(), conv.getKernelW(),
                               conv.getStrides()[0], w.getDimSize(1) * conv.getGroup(),
                               w.getDimSize(0), conv.getGroup());
  }
  if (auto block = dyn_cast<BlockOp>(op)) {
    auto in = cast<RankedTensorType>(block.getInput().getType());
    auto out = cast<RankedTensorType>(block.getOutput().getType());
    if (in.getRank() != 4)
      return "block → linear " + std::to_string(in.getDimSize(1)) + "→" +
             std::to_string(out.getDimSize(1));
    return "block → " + convLabel(block.getKernel()[0], block.getKernel()[1],
                                  block.getStrides()[0], in.getDimSize(1),
                                  out.getDimSize(1), block.getGroup());
  }
  if (auto lin = dyn_cast<LinearOp>(op)) {
    auto w = lin.getWeight().getType();
    return "linear " + std::to_string(w.getDimSize(1)) + "→" +
           std::to_string(w.getDimSize(0));
  }
  return op->getName().stripDialect().str();
}

/// A branch of a block as a short chain: "3x3·bn", "(1x1 - bn)·mul", "id".
std::string chipOf(Value v, BlockOp block) {
  if (v == block.getBranchInput())
    return "id";
  Operation *op = v.getDefiningOp();
  if (!op)
    return "?";
  std::string token = op->getName().stripDialect().str();
  if (auto conv = dyn_cast<Conv2DOp>(op))
    token = std::to_string(conv.getKernelH()) + "x" +
            std::to_string(conv.getKernelW());
  else if (isa<BatchNormOp>(op))
    token = "bn";
  SmallVector<Value, 2> inputs;
  for (Value operand : op->getOperands()) {
    Operation *def = operand.getDefiningOp();
    if (operand == block.getBranchInput() ||
        (def && !def->hasTrait<OpTrait::ConstantLike>() &&
         def->getParentOp() == block.getOperation()))
      inputs.push_back(operand);
  }
  if (inputs.size() == 2)
    return "(" + chipOf(inputs[0], block) + (isa<SubOp>(op) ? " - " : " + ") +
           chipOf(inputs[1], block) + ")";
  if (inputs.empty())
    return token;
  std::string inner = chipOf(inputs.front(), block);
  return inner == "id" ? token : inner + "·" + token;
}

struct Node {
  std::string label, detail, tooltip;
  const char *kind;
  SmallVector<std::string> chips;
  SmallVector<unsigned> from; ///< producer rows, deduplicated
  double y = 0, h = 0;
};

constexpr double kX = 10, kW = 330, kCharW = 6.6;

std::string drawFunc(func::FuncOp f, StringRef id, StringRef title) {
  std::vector<Node> nodes;
  llvm::DenseMap<Value, unsigned> rowOf;
  auto link = [&](Node &n, Value v) {
    auto it = rowOf.find(v);
    if (it != rowOf.end() && !llvm::is_contained(n.from, it->second))
      n.from.push_back(it->second);
  };
  for (BlockArgument a : f.getArguments()) {
    rowOf[a] = nodes.size();
    nodes.push_back({"input " + std::to_string(a.getArgNumber()),
                     shapeOf(a.getType()), "function argument", "io"});
  }
  for (auto &[op, stage] : stagesOf(f)) {
    Node n{labelOf(op), op->getNumResults() ? shapeOf(op->getResult(0).getType())
                                            : std::string(),
           nodeName(op->getLoc()), kindOf(op)};
    if (auto block = dyn_cast<BlockOp>(op))
      for (Value b : block.getBranches())
        n.chips.push_back(chipOf(b, block));
    for (Value v : op->getOperands())
      link(n, v);
    for (Value r : op->getResults())
      rowOf[r] = nodes.size();
    nodes.push_back(std::move(n));
  }
  Node out{"output", "", "returned values", "io"};
  if (!f.getBody().empty())
    for (Value v : f.getBody().front().getTerminator()->getOperands())
      link(out, v);
  nodes.push_back(std::move(out));

  // Rows, then the chips' lines inside each block row.
  double y = 28;
  std::string body;
  for (Node &n : nodes) {
    n.y = y;
    n.h = n.chips.empty() ? 20 : 40;
    y += n.h + 6;
  }
  double maxBulge = 0;
  std::string edges;
  for (auto [j, n] : llvm::enumerate(nodes))
    for (unsigned i : n.from) {
      const Node &p = nodes[i];
      if (i + 1 == j) {
        edges += llvm::formatv("<line x1='{0}' y1='{1}' x2='{0}' y2='{2}'/>",
                               kX + 16, p.y + p.h, n.y)
                     .str();
        continue;
      }
      double bulge = std::min(14.0 + 9.0 * std::sqrt(double(j - i)), 150.0);
      maxBulge = std::max(maxBulge, bulge);
      double y0 = p.y + p.h / 2, y1 = n.y + n.h / 2, x = kX + kW;
      edges += llvm::formatv("<path d='M{0} {1} C{2} {1} {2} {3} {0} {3}'/>",
                             x, y0, x + bulge, y1)
                   .str();
    }
  for (const Node &n : nodes) {
    const Style *s = &kStyles[0];
    for (const Style &st : kStyles)
      if (StringRef(st.kind) == n.kind)
        s = &st;
    body += llvm::formatv("<g class='node {0}'><title>{1}</title>", n.kind,
                          esc(n.tooltip.empty() ? n.label : n.tooltip))
                .str();
    body += llvm::formatv("<rect x='{0}' y='{1}' width='{2}' height='{3}' "
                          "rx='4' fill='{4}' stroke='{5}'/>",
                          kX, n.y, kW, n.h, s->fill, s->stroke)
                .str();
    body += llvm::formatv("<text x='{0}' y='{1}'>{2}</text>", kX + 6, n.y + 14,
                          esc(n.label))
                .str();
    body += llvm::formatv("<text class='shape' x='{0}' y='{1}' "
                          "text-anchor='end'>{2}</text>",
                          kX + kW - 6, n.y + 14, esc(n.detail))
                .str();
    double cx = kX + 6;
    for (auto [k, chip] : llvm::enumerate(n.chips)) {
      double w = 8 + kCharW * chip.size();
      if (cx + w > kX + kW - 6) {
        body += llvm::formatv("<text x='{0}' y='{1}'>+{2}</text>", cx,
                              n.y + 33, n.chips.size() - k)
                    .str();
        break;
      }
      body += llvm::formatv("<rect class='chip' x='{0}' y='{1}' width='{2}' "
                            "height='14' rx='3'/><text x='{3}' y='{4}'>{5}"
                            "</text>",
                            cx, n.y + 22, w, cx + 4, n.y + 33, esc(chip))
                  .str();
      cx += w + 4;
    }
    body += "</g>";
  }
  double width = kX + kW + maxBulge + 12, height = y + 4;
  return llvm::formatv("<svg id='{0}' xmlns='http://www.w3.org/2000/svg' "
                       "width='{1}' height='{2}' viewBox='0 0 {1} {2}' "
                       "role='img' aria-label='{3}'><text class='caption' "
                       "x='{4}' y='16'>{3}</text><g class='edges'>{5}</g>{6}"
                       "</svg>",
                       id, width, height, esc(title), kX, edges, body)
      .str();
}

const char *kStyleSheet = R"(
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 24px 0 8px; }
table { border-collapse: collapse; } td, th { padding: 3px 10px; text-align: right; }
th { border-bottom: 1px solid #999; } td:first-child, th:first-child { text-align: left; }
tr:nth-child(even) td { background: #f6f6f6; }
.pass { color: #2b7a2b; font-weight: 600; } .fail { color: #b3261e; font-weight: 600; }
.muted { color: #666; } code { font-size: 13px; }
.drawings { display: flex; gap: 24px; align-items: flex-start; }
.drawings > div { overflow: auto; max-height: 85vh; border: 1px solid #ddd; }
svg text { font: 11px monospace; fill: #222; } svg text.shape { fill: #666; }
svg text.caption { font: bold 13px system-ui, sans-serif; }
svg .edges line, svg .edges path { stroke: #888; stroke-width: 1; fill: none; }
svg rect.chip { fill: #fff; stroke: #e8790f; }
.legend span { display: inline-block; padding: 0 6px; margin-right: 6px; border: 1px solid; border-radius: 3px; }
)";

/// The per-layer int8 table: for each quantised convolution or linear
/// layer, how much its weights are dominated by single taps (the largest
/// per-channel peak / RMS: a folded identity or BN-skip branch makes one tap
/// dominate), how far apart its channels' ranges are (largest / median
/// channel peak), the output range its int8 parameters cover, the output's
/// SQNR and what the compiler chose; weakest first.
std::string int8LayerTable(const ReportInput &in) {
  struct Row {
    std::string layer, kind, choice;
    double peakToRms = 0.0, spread = 0.0, lo = 0.0, hi = 0.0;
    double sqnr = std::numeric_limits<double>::infinity();
    bool measured = false;
  };
  std::vector<Row> rows;
  for (const auto &[name, layer] : in.int8->layers) {
    const QdqWeights &w = layer.kernel;
    if (w.shape.empty() || w.weightScales.empty() || w.shape[0] <= 0)
      continue;
    Row r;
    r.layer = name;
    const int64_t oc = w.shape[0];
    const int64_t per = int64_t(w.weights.size()) / oc;
    if (w.shape.size() == 4)
      r.kind = (w.depthwise ? "depthwise " : "conv ") +
               std::to_string(w.shape[2]) + "x" + std::to_string(w.shape[3]);
    else
      r.kind = "linear";
    std::vector<double> peaks;
    for (int64_t c = 0; c < oc && per > 0; ++c) {
      double peak = 0.0, sum = 0.0;
      for (int64_t i = 0; i < per; ++i) {
        double q = w.weights[c * per + i];
        peak = std::max(peak, std::abs(q));
        sum += q * q;
      }
      double rms = std::sqrt(sum / double(per));
      if (rms > 0.0)
        r.peakToRms = std::max(r.peakToRms, peak / rms);
      peaks.push_back(peak * w.weightScales[size_t(c) % w.weightScales.size()]);
    }
    if (!peaks.empty()) {
      std::vector<double> sorted = peaks;
      std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2,
                       sorted.end());
      double median = sorted[sorted.size() / 2];
      double top = *std::max_element(peaks.begin(), peaks.end());
      r.spread = median > 0.0 ? top / median : 0.0;
    }
    auto act = in.int8->activations.find(name);
    const QdqParams out =
        act != in.int8->activations.end() ? act->second : layer.kernelOutput;
    r.lo = (-128.0 - out.zeroPoint) * out.scale;
    r.hi = (127.0 - out.zeroPoint) * out.scale;
    auto tensor = in.int8->tensors.find(name);
    const std::string &tensorName =
        tensor != in.int8->tensors.end() ? tensor->second : name;
    for (const auto &e : in.int8Errors)
      if (e.tensor == tensorName) {
        r.sqnr = e.sqnr;
        r.measured = true;
      }
    r.choice = "-";
    for (const auto &f : in.int8Folds)
      if (f.layer == name)
        r.choice = f.chosen
                       ? llvm::formatv("identity tap kept out (weight SQNR "
                                       "{0:f1} -> {1:f1} dB)",
                                       f.sqnrIn, f.sqnrOut)
                             .str()
                       : "folded (identity tap: " + f.reason + ")";
    rows.push_back(std::move(r));
  }
  llvm::stable_sort(rows, [](const Row &a, const Row &b) {
    return a.sqnr < b.sqnr;
  });
  std::string html;
  llvm::raw_string_ostream os(html);
  os << "<h2>int8 layers</h2><p class='muted'>Per quantised layer, weakest "
        "output first. Peak / RMS: the largest over output channels of the "
        "channel's largest int8 weight over its RMS (a folded identity or "
        "BN-skip branch makes one tap dominate: int8's per-channel step is "
        "then coarse for the rest of the channel). Channel spread: the "
        "largest channel peak over the median one (what per-tensor weights "
        "would pay). Output range: what its int8 parameters cover ("
     << esc(in.int8Method) << ").</p><table id='int8-layers'><tr><th>layer"
     << "</th><th>kind</th><th>peak / RMS</th><th>channel spread</th><th>"
        "output range</th><th>SQNR (dB)</th><th>choice</th></tr>\n";
  for (const Row &r : rows)
    os << "<tr><td><code>" << esc(r.layer) << "</code></td><td>" << r.kind
       << "</td><td>" << llvm::formatv("{0:f1}", r.peakToRms).str()
       << "</td><td>" << llvm::formatv("{0:f1}", r.spread).str() << "</td><td>["
       << llvm::format("%.4g", r.lo) << ", " << llvm::format("%.4g", r.hi)
       << "]</td><td>"
       << (r.measured ? llvm::formatv("{0:f1}", r.sqnr).str()
                      : std::string("-"))
       << "</td><td>" << esc(r.choice) << "</td></tr>\n";
  for (const std::string &name : in.int8KeptFloat)
    os << "<tr><td><code>" << esc(name)
       << "</code></td><td>-</td><td>-</td><td>-</td><td>-</td><td>-</td><td>"
          "kept float32 (--keep-float)</td></tr>\n";
  os << "</table>\n";
  return html;
}

} // namespace

std::string mobileone::renderReport(const ReportInput &in) {
  std::string html;
  llvm::raw_string_ostream os(html);
  Cost before = computeCost(in.trainingTime), after = computeCost(in.deployed);
  auto opCount = [](const Cost &c, StringRef name) -> int64_t {
    auto it = c.ops.find(name);
    return it == c.ops.end() ? 0 : it->second;
  };

  os << "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
     << "<title>mobileone-compile: " << esc(in.model) << "</title><style>"
     << kStyleSheet << "</style></head><body>\n";
  os << "<h1>" << esc(in.model) << " → " << esc(in.output) << "</h1>\n";
  os << "<p class='muted'>mobileone-compile report: training-time model as "
        "imported, and the deployed model written.</p>\n";

  // The compilation: what ran, what the written file takes and gives.
  os << "<h2>Compilation</h2><table id='compilation'>\n";
  if (!in.tool.empty())
    os << "<tr><th>tool</th><td>" << esc(in.tool) << "</td></tr>\n";
  if (!in.commandLine.empty())
    os << "<tr><th>command line</th><td><code>" << esc(in.commandLine)
       << "</code></td></tr>\n";
  for (const std::string &line : in.interface)
    os << "<tr><th>interface</th><td><code>" << esc(line)
       << "</code></td></tr>\n";
  if (!in.estimate.empty())
    os << "<tr><th>estimated latency</th><td>" << esc(in.estimate)
       << "</td></tr>\n";
  os << "</table>\n";

  // int8: every tensor's SQNR, weakest first (where to look when a model
  // quantises badly: a folded block with a dominant identity shows here).
  if (!in.int8Errors.empty()) {
    std::vector<ReportInput::Int8Error> errors = in.int8Errors;
    llvm::stable_sort(errors, [](const auto &a, const auto &b) {
      return a.sqnr < b.sqnr;
    });
    os << "<h2>int8 error per tensor</h2><p class='muted'>" << esc(in.int8Note)
       << "</p><table id='int8'><tr><th>tensor</th><th>SQNR (dB)</th></tr>\n";
    for (const auto &e : errors)
      os << "<tr><td><code>" << esc(e.tensor) << "</code>"
         << (e.output ? " (output)" : "") << "</td><td>"
         << llvm::formatv("{0:f1}", e.sqnr).str() << "</td></tr>\n";
    os << "</table>\n";
  }

  // int8: per layer, why it quantises as it does, weakest first.
  if (in.int8)
    os << int8LayerTable(in);

  // int8: what the quantisation-aware folding chose, and why.
  if (!in.int8Folds.empty() || !in.int8ConstantChannels.empty()) {
    os << "<h2>int8 folding</h2><p class='muted'>A folded identity branch "
          "is the centre tap (c, c) of its kernel, often the largest weight "
          "of its output channel: int8's per-channel step, set by it, is "
          "coarse for the rest of the row. Kept out of the kernel (a 1x1 "
          "depthwise + ADD), the tap is exact and the rest gets the "
          "steps. Chosen by weight SQNR gained, largest first, within "
          "--max-slowdown.</p>\n";
    if (!in.int8Folds.empty()) {
      os << "<table id='int8-fold'><tr><th>layer</th><th>weight SQNR, tap "
            "folded (dB)</th><th>tap kept out (dB)</th><th>estimated "
            "latency</th><th>choice</th></tr>\n";
      for (const auto &f : in.int8Folds)
        os << "<tr><td><code>" << esc(f.layer) << "</code></td><td>"
           << llvm::formatv("{0:f1}", f.sqnrIn).str() << "</td><td>"
           << llvm::formatv("{0:f1}", f.sqnrOut).str() << "</td><td>+"
           << llvm::formatv("{0:f2}", 100.0 * f.cost).str() << "%</td><td>"
           << (f.chosen ? "tap kept out" : "folded: " + esc(f.reason))
           << "</td></tr>\n";
      os << "</table>\n";
    }
    if (!in.int8ConstantChannels.empty()) {
      os << "<p>Input channels constant over the calibration set, folded "
            "into the bias (their rounding, times a folded identity weight, "
            "would be a constant error):</p><ul>\n";
      for (const auto &[layer, n] : in.int8ConstantChannels)
        os << "<li><code>" << esc(layer) << "</code>: " << n
           << " channel(s)</li>\n";
      os << "</ul>\n";
    }
  }

  // The summary.
  int64_t blocks = 0, branches = 0;
  if (func::FuncOp recovered = in.recovered)
    recovered.walk([&](BlockOp b) {
      ++blocks;
      branches += b.getBranches().size();
    });
  os << "<h2>Summary</h2><table><tr><th></th><th>training-time</th>"
        "<th>deployed</th><th>ratio</th></tr>\n";
  auto row = [&](StringRef what, std::string a, std::string b, std::string r) {
    os << "<tr><td>" << what << "</td><td>" << a << "</td><td>" << b
       << "</td><td>" << r << "</td></tr>\n";
  };
  row("parameters", count(before.params), count(after.params),
      ratio(before.params, after.params));
  row("multiply-adds", count(before.macs + before.seMacs),
      count(after.macs + after.seMacs),
      ratio(before.macs + before.seMacs, after.macs + after.seMacs));
  row("bytes moved", bytes(before.bytesMoved()), bytes(after.bytesMoved()),
      ratio(before.bytesMoved(), after.bytesMoved()));
  row("feature maps written", bytes(before.bytesWritten),
      bytes(after.bytesWritten),
      ratio(before.bytesWritten, after.bytesWritten));
  for (StringRef op : {"mobileone.conv2d", "mobileone.batch_norm",
                       "mobileone.add", "mobileone.sub", "mobileone.mul"})
    row(op.drop_front(10), std::to_string(opCount(before, op)),
        std::to_string(opCount(after, op)), "");
  int64_t opsBefore = stagesOf(in.trainingTime).size(),
          opsAfter = stagesOf(in.deployed).size();
  row("ops (no constants)", std::to_string(opsBefore), std::to_string(opsAfter),
      ratio(opsBefore, opsAfter));
  os << "</table>\n<p>" << blocks << " blocks fused (" << branches
     << " branches in, one kernel out each).</p>\n";

  // The check.
  os << "<h2>Check</h2>\n";
  if (in.check.ran)
    os << "<p id='check'>Deployed vs training-time on a seeded input: max "
          "abs diff <code>"
       << llvm::formatv("{0:e3}", in.check.maxAbs).str()
       << "</code>, relative <code>"
       << llvm::formatv("{0:e3}", in.check.relative).str() << "</code> (rtol "
       << llvm::formatv("{0:e1}", in.check.rtol).str() << "): <span class='"
       << (in.check.pass ? "pass'>PASS" : "fail'>FAIL") << "</span></p>\n";
  else
    os << "<p id='check' class='muted'>not run"
       << (in.check.note.empty() ? "" : ": " + esc(in.check.note)) << "</p>\n";

  // Stages.
  Ordered<StageRow> stages;
  for (auto &[op, stage] : stagesOf(in.trainingTime)) {
    stages[stage].before.add(opCost(op));
    ++stages[stage].opsBefore;
  }
  for (auto &[op, stage] : stagesOf(in.deployed)) {
    stages[stage].after.add(opCost(op));
    ++stages[stage].opsAfter;
  }
  os << "<h2>Per stage (by feature-map resolution)</h2><table id='stages'>"
        "<tr><th>stage</th><th>ops</th><th>parameters</th>"
        "<th>multiply-adds</th><th>bytes moved</th></tr>\n";
  for (auto &[name, s] : stages.items)
    os << "<tr><td>" << esc(name) << "</td><td>" << s.opsBefore << " → "
       << s.opsAfter << "</td><td>" << count(s.before.params) << " → "
       << count(s.after.params) << "</td><td>" << count(s.before.macs + s.before.seMacs) << " → "
       << count(s.after.macs + s.after.seMacs) << "</td><td>"
       << bytes(s.before.bytesMoved()) << " → " << bytes(s.after.bytesMoved())
       << "</td></tr>\n";
  os << "</table>\n<p class='muted'>Multiply-adds include squeeze-excite; "
        "bytes moved: every op reads its activations from memory and writes "
        "its results (float32), weights read once (see "
        "--mobileone-cost-report).</p>\n";

  // The drawings.
  os << "<h2>The network</h2><p class='legend'>";
  for (const Style &s : kStyles)
    os << "<span style='background:" << s.fill << ";border-color:" << s.stroke
       << "'>" << s.kind << "</span>";
  os << "</p><p class='muted'>One row per op in program order; arcs on the "
        "right are skips and second operands. Hover a row for its ONNX "
        "node.</p>\n<div class='drawings'><div>"
     << drawFunc(in.recovered ? in.recovered : in.trainingTime,
                 "drawing-before", "training-time: blocks and their branches")
     << "</div><div>"
     << drawFunc(in.deployed, "drawing-after", "deployed") << "</div></div>\n";

  // What was fused, and what was not.
  SmallVector<Fused> fused;
  Ordered<Refusal> refused;
  for (const ExplainRemark &r : in.remarks) {
    if (std::optional<Fused> f = parseFused(r)) {
      fused.push_back(*f);
      continue;
    }
    Refusal &ref = refused[reasonKey(r.text)];
    if (ref.example.empty())
      ref.example = r.text;
    ref.nodes.push_back(r.node);
  }
  os << "<h2>Fused (" << fused.size() << ")</h2>\n<details"
     << (fused.size() <= 40 ? " open" : "")
     << "><summary>per block: branches in, kernel out</summary><table "
        "id='fused'><tr><th>at node</th><th>input</th><th>branches in</th>"
        "<th>kernel out</th></tr>\n";
  for (const Fused &f : fused)
    os << "<tr><td><code>" << esc(f.node) << "</code></td><td><code>"
       << esc(f.root) << "</code></td><td>" << esc(f.branches) << "</td><td>"
       << esc(f.kernel) << "</td></tr>\n";
  os << "</table></details>\n";
  // Missed non-fusions first: those are the ones worth a look.
  size_t expected = 0, missed = 0;
  for (auto &[key, r] : refused.items)
    (expectedBecause(r.example).empty() ? missed : expected) +=
        r.nodes.size();
  llvm::stable_sort(refused.items, [](const auto &a, const auto &b) {
    return expectedBecause(a.second.example).empty() &&
           !expectedBecause(b.second.example).empty();
  });
  os << "<h2>Not fused (" << (in.remarks.size() - fused.size())
     << ")</h2>\n<p id='not-fused-kinds'>" << expected << " expected, "
     << missed
     << " missed. Expected: a join through a nonlinearity, the cost model's "
        "choice, or a composition no single conv expresses exactly. Missed: "
        "ops no rule of the compiler composes (a gap worth a report, with "
        "the model).</p>\n<table id='refused'><tr><th>reason (one example)"
        "</th><th>kind</th><th>times</th><th>at nodes</th></tr>\n";
  for (auto &[key, r] : refused.items) {
    std::string nodes;
    for (auto [i, n] : llvm::enumerate(r.nodes)) {
      if (i == 4) {
        nodes += ", … " + std::to_string(r.nodes.size() - 4) + " more";
        break;
      }
      nodes += (i ? ", " : "") + n;
    }
    std::string because = expectedBecause(r.example);
    os << "<tr><td>" << esc(r.example) << "</td><td>"
       << (because.empty() ? std::string("<span class='fail'>missed</span>")
                           : "expected: " + esc(because))
       << "</td><td>" << r.nodes.size() << "</td><td><code>" << esc(nodes)
       << "</code></td></tr>\n";
  }
  os << "</table>\n</body></html>\n";
  return html;
}
