"""Chapter one: log what the function receives and where it runs, then answer."""
import json
import logging

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def lambda_handler(event, context):
    logger.info("Received event: %s", json.dumps(event))
    for key, value in event.items():
        print(f"{key} = {value}")
    print("function name =", context.function_name)
    print("request id =", context.aws_request_id)
    print("log stream =", context.log_stream_name)
    print("remaining time (ms) =", context.get_remaining_time_in_millis())
    return event.get("value1")
