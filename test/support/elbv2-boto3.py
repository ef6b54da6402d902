"""An ALB built through local-elb's ELBv2 API with boto3 (botocore's model and signing), as a
Python script would build one on AWS: a target group, a target, a load balancer, an HTTP
listener, a rule with a url-rewrite transform and a regexValues condition, the waiters, and
AWS's error codes. Prints one JSON object with what the calls returned; the test checks it and
sends requests through the listener. Usage: python3 elbv2-boto3.py ENDPOINT TARGET_PORT"""
import json
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint, target_port = sys.argv[1], int(sys.argv[2])
elbv2 = boto3.client(
    "elbv2",
    region_name="eu-west-1",
    endpoint_url=endpoint,
    aws_access_key_id="111122223333",
    aws_secret_access_key="x",
    config=Config(retries={"max_attempts": 1}),
)
fast = {"Delay": 1, "MaxAttempts": 30}
out = {}

lb = elbv2.create_load_balancer(Name="py-alb", Subnets=["subnet-1", "subnet-2"])["LoadBalancers"][0]
elbv2.get_waiter("load_balancer_available").wait(Names=["py-alb"], WaiterConfig=fast)
out["loadBalancerArn"] = lb["LoadBalancerArn"]
tg = elbv2.create_target_group(
    Name="py-tg", Protocol="HTTP", Port=target_port, VpcId="vpc-1", HealthCheckPath="/healthz", HealthCheckIntervalSeconds=5
)["TargetGroups"][0]
out["targetGroupArn"] = tg["TargetGroupArn"]
elbv2.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": "127.0.0.1"}])
listener = elbv2.create_listener(
    LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=8092, DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}]
)["Listeners"][0]
elbv2.get_waiter("target_in_service").wait(TargetGroupArn=tg["TargetGroupArn"], WaiterConfig=fast)
out["health"] = [d["TargetHealth"]["State"] for d in elbv2.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]]
tags = elbv2.describe_tags(ResourceArns=[listener["ListenerArn"]])["TagDescriptions"][0]["Tags"]
out["url"] = next(t["Value"] for t in tags if t["Key"] == "local-elb:url")

rule = elbv2.create_rule(
    ListenerArn=listener["ListenerArn"],
    Priority=7,
    Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"RegexValues": ["^/v1/"]}}],
    Actions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}],
    Transforms=[{"Type": "url-rewrite", "UrlRewriteConfig": {"Rewrites": [{"Regex": "^/v1/(.*)$", "Replace": "/api/$1"}]}}],
)["Rules"][0]
described = elbv2.describe_rules(RuleArns=[rule["RuleArn"]])["Rules"][0]
out["rule"] = {"priority": described["Priority"], "conditions": described["Conditions"], "transforms": described.get("Transforms")}

errors = {}
for name, call in {
    "duplicateTargetGroup": lambda: elbv2.create_target_group(Name="py-tg", Protocol="HTTP", Port=target_port + 1, VpcId="vpc-1"),
    "unknownTargetGroup": lambda: elbv2.describe_target_health(TargetGroupArn=tg["TargetGroupArn"].replace("py-tg", "no-tg")),
    "badTransformRegex": lambda: elbv2.create_rule(
        ListenerArn=listener["ListenerArn"],
        Priority=8,
        Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/x/*"]}}],
        Actions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}],
        Transforms=[{"Type": "url-rewrite", "UrlRewriteConfig": {"Rewrites": [{"Regex": "^(?=/x)(.*)$", "Replace": "$1"}]}}],
    ),
}.items():
    try:
        call()
        errors[name] = None
    except ClientError as e:
        errors[name] = {"code": e.response["Error"]["Code"], "status": e.response["ResponseMetadata"]["HTTPStatusCode"]}
out["errors"] = errors
print(json.dumps(out))
