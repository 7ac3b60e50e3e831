// Chapter one: add two numbers. Invoke with {"value1": 10, "value2": 20} and get 30.
exports.handler = async (event) => {
  return event.value1 + event.value2;
};
