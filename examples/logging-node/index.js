// Chapter one: log what the function receives and where it runs, then answer.
exports.handler = async (event, context) => {
  console.log('Received event:', JSON.stringify(event, null, 2));
  for (const [key, value] of Object.entries(event)) {
    console.log(`${key} =`, value);
  }
  console.log('function name =', context.functionName);
  console.log('request id =', context.awsRequestId);
  console.log('log stream =', context.logStreamName);
  console.log('remaining time (ms) =', context.getRemainingTimeInMillis());
  return event.value1;
};
