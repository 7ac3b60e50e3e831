//! The AWS-managed policies lambent seeds at start (`arn:aws:iam::aws:policy/...`), each
//! with its document as AWS publishes it (ReadOnlyAccess shortened to its three verbs).

use lambent_store::iam::AwsManagedPolicy;

const ADMINISTRATOR_ACCESS: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "*",
            "Resource": "*"
        }
    ]
}"#;

const READ_ONLY_ACCESS: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ReadOnlyActions",
            "Effect": "Allow",
            "Action": ["*:Get*", "*:List*", "*:Describe*"],
            "Resource": "*"
        }
    ]
}"#;

const AMAZON_S3_FULL_ACCESS: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["s3:*", "s3-object-lambda:*"],
            "Resource": "*"
        }
    ]
}"#;

const AMAZON_S3_READ_ONLY_ACCESS: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["s3:Get*", "s3:List*", "s3:Describe*", "s3-object-lambda:Get*", "s3-object-lambda:List*"],
            "Resource": "*"
        }
    ]
}"#;

const AWS_LAMBDA_FULL_ACCESS: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "cloudformation:DescribeStacks",
                "cloudformation:ListStackResources",
                "cloudwatch:ListMetrics",
                "cloudwatch:GetMetricData",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSubnets",
                "ec2:DescribeVpcs",
                "kms:ListAliases",
                "iam:GetPolicy",
                "iam:GetPolicyVersion",
                "iam:GetRole",
                "iam:GetRolePolicy",
                "iam:ListAttachedRolePolicies",
                "iam:ListRolePolicies",
                "iam:ListRoles",
                "lambda:*",
                "logs:DescribeLogGroups",
                "states:DescribeStateMachine",
                "states:ListStateMachines",
                "tag:GetResources",
                "xray:GetTraceSummaries",
                "xray:BatchGetTraces"
            ],
            "Resource": "*"
        },
        {
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "iam:PassedToService": "lambda.amazonaws.com"
                }
            }
        },
        {
            "Effect": "Allow",
            "Action": ["logs:DescribeLogStreams", "logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartLiveTail", "logs:StopLiveTail"],
            "Resource": "arn:aws:logs:*:*:log-group:/aws/lambda/*"
        }
    ]
}"#;

const AWS_LAMBDA_BASIC_EXECUTION_ROLE: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:PutLogEvents"
            ],
            "Resource": "*"
        }
    ]
}"#;

const AMAZON_DYNAMODB_FULL_ACCESS: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Action": [
                "dynamodb:*",
                "dax:*",
                "application-autoscaling:DeleteScalingPolicy",
                "application-autoscaling:DeregisterScalableTarget",
                "application-autoscaling:DescribeScalableTargets",
                "application-autoscaling:DescribeScalingActivities",
                "application-autoscaling:DescribeScalingPolicies",
                "application-autoscaling:PutScalingPolicy",
                "application-autoscaling:RegisterScalableTarget",
                "cloudwatch:DeleteAlarms",
                "cloudwatch:DescribeAlarmHistory",
                "cloudwatch:DescribeAlarms",
                "cloudwatch:DescribeAlarmsForMetric",
                "cloudwatch:GetMetricStatistics",
                "cloudwatch:ListMetrics",
                "cloudwatch:PutMetricAlarm",
                "cloudwatch:GetMetricData",
                "kinesis:ListStreams",
                "kinesis:DescribeStream",
                "kinesis:DescribeStreamSummary",
                "kms:DescribeKey",
                "kms:ListAliases",
                "sns:CreateTopic",
                "sns:DeleteTopic",
                "sns:ListSubscriptions",
                "sns:ListSubscriptionsByTopic",
                "sns:ListTopics",
                "sns:Subscribe",
                "sns:Unsubscribe",
                "sns:SetTopicAttributes",
                "lambda:CreateFunction",
                "lambda:ListFunctions",
                "lambda:ListEventSourceMappings",
                "lambda:CreateEventSourceMapping",
                "lambda:DeleteEventSourceMapping",
                "lambda:GetFunctionConfiguration",
                "lambda:DeleteFunction",
                "resource-groups:ListGroups",
                "resource-groups:ListGroupResources",
                "resource-groups:GetGroup",
                "resource-groups:GetGroupQuery",
                "resource-groups:DeleteGroup",
                "resource-groups:CreateGroup",
                "tag:GetResources"
            ],
            "Effect": "Allow",
            "Resource": "*"
        },
        {
            "Action": "cloudwatch:GetInsightRuleReport",
            "Effect": "Allow",
            "Resource": "arn:aws:cloudwatch:*:*:insight-rule/DynamoDBContributorInsights*"
        },
        {
            "Action": ["iam:PassRole"],
            "Effect": "Allow",
            "Resource": "*",
            "Condition": {
                "StringLike": {
                    "iam:PassedToService": [
                        "application-autoscaling.amazonaws.com",
                        "application-autoscaling.amazonaws.com.cn",
                        "dax.amazonaws.com"
                    ]
                }
            }
        }
    ]
}"#;

const CLOUDWATCH_LOGS_FULL_ACCESS: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "CloudWatchLogsFullAccess",
            "Effect": "Allow",
            "Action": ["logs:*", "cloudwatch:GenerateQuery"],
            "Resource": "*"
        }
    ]
}"#;

/// ARN, name, path and document of each.
pub const POLICIES: &[AwsManagedPolicy<'static>] = &[
    (
        "arn:aws:iam::aws:policy/AdministratorAccess",
        "AdministratorAccess",
        "/",
        ADMINISTRATOR_ACCESS,
    ),
    (
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        "ReadOnlyAccess",
        "/",
        READ_ONLY_ACCESS,
    ),
    (
        "arn:aws:iam::aws:policy/AmazonS3FullAccess",
        "AmazonS3FullAccess",
        "/",
        AMAZON_S3_FULL_ACCESS,
    ),
    (
        "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
        "AmazonS3ReadOnlyAccess",
        "/",
        AMAZON_S3_READ_ONLY_ACCESS,
    ),
    (
        "arn:aws:iam::aws:policy/AWSLambda_FullAccess",
        "AWSLambda_FullAccess",
        "/",
        AWS_LAMBDA_FULL_ACCESS,
    ),
    (
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        "AWSLambdaBasicExecutionRole",
        "/service-role/",
        AWS_LAMBDA_BASIC_EXECUTION_ROLE,
    ),
    (
        "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess",
        "AmazonDynamoDBFullAccess",
        "/",
        AMAZON_DYNAMODB_FULL_ACCESS,
    ),
    (
        "arn:aws:iam::aws:policy/CloudWatchLogsFullAccess",
        "CloudWatchLogsFullAccess",
        "/",
        CLOUDWATCH_LOGS_FULL_ACCESS,
    ),
];

#[cfg(test)]
mod tests {
    use super::POLICIES;
    use lambent_aws::iam::{Policy, PolicyKind, SizeLimit};

    #[test]
    fn every_seeded_document_parses() {
        for (arn, name, path, doc) in POLICIES {
            assert!(arn.ends_with(&format!("{path}{name}").trim_start_matches('/').to_string()));
            Policy::parse(doc, PolicyKind::Identity, &SizeLimit::Managed)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
