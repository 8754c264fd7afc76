#include "worker/child_budget.h"

namespace actsearch::worker {

TrainingProfile ChildProfile(const proto::ResNetChild& child) {
  TrainingProfile profile =
      ProfileByName(child.profile().empty() ? kDefaultProfile : child.profile());
  if (child.steps() > 0) SetSteps(profile, child.steps());
  return profile;
}

int64_t StepBudget(const proto::Child& child) {
  if (child.has_proxy())
    return child.proxy().steps() > 0 ? child.proxy().steps() : kProxyDefaultSteps;
  return ChildProfile(child.resnet()).steps;
}

}  // namespace actsearch::worker
