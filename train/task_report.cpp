#include "train/task_report.h"

#include <algorithm>

#include <fmt/format.h>

#include "train/answer_accuracy.h"
#include "train/multiply_task.h"

namespace lmul::train {

TaskReport multiply_task_report(const TrainConfig& config, nn::LanguageModel& model, const BatchSource& source,
                                data::Split split, const EvalOptions& options, int64_t rows, int64_t show) {
  const MultiplyTask task = parse_multiply_task(config.dataset);
  const AnswerAccuracy acc = answer_accuracy(model, source, split, options, rows, show);
  std::vector<double> place;
  for (size_t k = 0; k < acc.position_right.size(); ++k)
    place.push_back(acc.position(task.reverse ? k : acc.position_right.size() - 1 - k));
  TaskReport r;
  r.accuracy = {{"samples", acc.rows}, {"whole_accuracy", acc.whole()}, {"digit_accuracy", place}};
  if (show <= 0) return r;
  const auto tokenizer = make_tokenizer(config);
  auto text = [&](std::vector<int32_t> ids, bool answer) {  // an answer in normal digit order
    if (answer && task.reverse) std::reverse(ids.begin(), ids.end());
    const std::vector<int> v(ids.begin(), ids.end());
    return tokenizer->decode(v);
  };
  nlohmann::ordered_json examples = nlohmann::ordered_json::array();
  for (const AnsweredRow& row : acc.shown) {
    const std::string prompt = text(row.prompt, false), got = text(row.predicted, true),
                      want = text(row.expected, true);
    examples.push_back({{"prompt", prompt}, {"predicted", got}, {"expected", want}, {"right", row.right()}});
    r.shown.push_back(fmt::format("{} → {}  (true {})  {}", prompt, got, want, row.right() ? "right" : "WRONG"));
  }
  r.accuracy["examples"] = examples;
  return r;
}

std::vector<std::string> TaskReport::lines(const std::string& split) const {
  if (accuracy.is_null()) return {};
  std::string places;
  for (const auto& p : accuracy["digit_accuracy"]) places += fmt::format(" {:.4f}", p.get<double>());
  std::vector<std::string> out{
      fmt::format("{} whole-number accuracy {:.4f} over {} samples; per digit place (units "
                  "first):{}",
                  split, accuracy["whole_accuracy"].get<double>(), accuracy["samples"].get<int64_t>(), places)};
  for (const std::string& line : shown) out.push_back("  " + line);
  return out;
}

}  // namespace lmul::train
