//! The Kubernetes deployment in `k8s/` against real tools and the real binary:
//! - `kubectl kustomize` renders it (with secrets from `k8s/make-secrets`);
//! - every object validates against the Kubernetes 1.30 schemas in strict mode
//!   (`kubernetes-validate`), KEDA's objects against `k8s/schemas/keda.json`;
//! - checkov finds nothing but what `k8s/checkov.yaml` accepts with a reason;
//! - the manifests agree with the binary: each ScanPro container's arguments are a real role with
//!   real flags, each environment variable is a setting the binary reads; each role, started
//!   here with its manifest's arguments, environment and configuration file, answers its probes
//!   and metrics on the ports its Services and Prometheus use; the streams KEDA watches are the
//!   ones the workers read; the migrate Job and the backup CronJobs run.

use scanpro_testkit::postgres::empty_postgres_database;
use scanpro_testkit::redis::RedisServer;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn k8s_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../k8s")
}

/// A tool of the checks' venv (`scripts/install-deps --test` makes it).
fn checks_tool(name: &str) -> PathBuf {
    let home = std::env::var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache"));
    let tool = home.join("scanpro/k8s-checks/bin").join(name);
    assert!(tool.exists(), "{} is missing: run scripts/install-deps --test", tool.display());
    tool
}

fn run(command: &mut Command) -> String {
    let out = command.output().unwrap_or_else(|e| panic!("{command:?}: {e} (run scripts/install-deps --test)"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{command:?} failed:\n{text}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The rendered deployment: its file and its objects.
struct Rendered {
    file: PathBuf,
    objects: Vec<Value>,
    _dir: tempfile::TempDir,
}

/// Renders a copy of `k8s/` with fresh secrets, once per test process.
fn rendered() -> &'static Rendered {
    static RENDERED: OnceLock<Rendered> = OnceLock::new();
    RENDERED.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("k8s");
        run(Command::new("cp").arg("-r").arg(k8s_dir()).arg(&copy));
        let _ = std::fs::remove_dir_all(copy.join("secrets"));
        run(&mut Command::new(copy.join("make-secrets")));
        let yaml = run(Command::new("kubectl").arg("kustomize").arg(&copy));
        let file = dir.path().join("rendered.yaml");
        std::fs::write(&file, &yaml).unwrap();
        let json = run(Command::new(checks_tool("python")).arg("-c").arg(
            "import json, sys, yaml; json.dump([d for d in yaml.safe_load_all(open(sys.argv[1])) if d], sys.stdout)",
        ).arg(&file));
        let objects: Vec<Value> = serde_json::from_str(&json).unwrap();
        Rendered { file, objects, _dir: dir }
    })
}

fn objects(kind: &str) -> impl Iterator<Item = &'static Value> {
    rendered().objects.iter().filter(move |o| o["kind"] == kind)
}

/// The object of `kind` named `name`; a generated ConfigMap or Secret by its name before
/// kustomize's content hash (`name-0123456789`).
fn object(kind: &str, name: &str) -> &'static Value {
    let named = |o: &&Value| {
        let actual = o["metadata"]["name"].as_str().unwrap();
        actual == name || actual.strip_prefix(name).and_then(|s| s.strip_prefix('-')).is_some_and(|h| h.len() == 10)
    };
    objects(kind).find(named).unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn name(object: &Value) -> &str {
    object["metadata"]["name"].as_str().unwrap()
}

fn pod_spec(object: &Value) -> Option<&Value> {
    match object["kind"].as_str()? {
        "Deployment" | "StatefulSet" | "Job" => Some(&object["spec"]["template"]["spec"]),
        "CronJob" => Some(&object["spec"]["jobTemplate"]["spec"]["template"]["spec"]),
        _ => None,
    }
}

/// Every ScanPro container (the images `scripts/build-images` makes) with its workload.
fn scanpro_containers() -> Vec<(&'static Value, &'static Value)> {
    let mut found = Vec::new();
    for workload in &rendered().objects {
        let Some(spec) = pod_spec(workload) else { continue };
        for container in spec["containers"].as_array().unwrap() {
            if container["image"].as_str().unwrap().starts_with("localhost/scanpro") {
                found.push((workload, container));
            }
        }
    }
    assert!(found.len() >= 12, "expected the roles' containers, found {}", found.len());
    found
}

fn strings(value: &Value) -> Vec<String> {
    value.as_array().map(|a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect()).unwrap_or_default()
}

fn data_of(kind: &str, name: &str, key: &str) -> String {
    let object = object(kind, name);
    match kind {
        "ConfigMap" => object["data"][key].as_str().unwrap().to_owned(),
        _ => {
            use base64::Engine;
            let encoded = object["data"][key].as_str().unwrap_or_else(|| panic!("no {key} in Secret {name}"));
            // Long values come folded over lines.
            let encoded: String = encoded.split_whitespace().collect();
            String::from_utf8(base64::engine::general_purpose::STANDARD.decode(encoded).unwrap()).unwrap()
        }
    }
}

/// A container's environment as the kubelet would give it.
fn environment(container: &Value) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for source in container["envFrom"].as_array().into_iter().flatten() {
        let (kind, reference) = match (&source["configMapRef"], &source["secretRef"]) {
            (Value::Object(r), _) => ("ConfigMap", r),
            (_, Value::Object(r)) => ("Secret", r),
            _ => panic!("unexpected envFrom {source}"),
        };
        let source_name = reference["name"].as_str().unwrap();
        for key in object(kind, source_name)["data"].as_object().unwrap().keys() {
            env.insert(key.clone(), data_of(kind, source_name, key));
        }
    }
    for variable in container["env"].as_array().into_iter().flatten() {
        let key = variable["name"].as_str().unwrap().to_owned();
        let from = &variable["valueFrom"];
        let value = if let Some(value) = variable["value"].as_str() {
            value.to_owned()
        } else if let Some(r) = from["configMapKeyRef"].as_object() {
            data_of("ConfigMap", r["name"].as_str().unwrap(), r["key"].as_str().unwrap())
        } else if let Some(r) = from["secretKeyRef"].as_object() {
            data_of("Secret", r["name"].as_str().unwrap(), r["key"].as_str().unwrap())
        } else {
            panic!("unexpected variable {variable}")
        };
        env.insert(key, value);
    }
    env
}

/// The configuration file a container reads (`SCANPRO_CONFIG`), from the Secret mounted there.
fn mounted_config(workload: &Value, container: &Value, path: &str) -> String {
    let (directory, file) = path.rsplit_once('/').unwrap();
    let mount = container["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mountPath"] == directory)
        .unwrap_or_else(|| panic!("{}: nothing mounted at {directory}", name(workload)));
    let volume =
        pod_spec(workload).unwrap()["volumes"].as_array().unwrap().iter().find(|v| v["name"] == mount["name"]).unwrap();
    data_of("Secret", volume["secret"]["secretName"].as_str().unwrap(), file)
}

#[test]
fn every_object_validates_strictly_against_kubernetes_1_30() {
    let out = run(Command::new(checks_tool("kubernetes-validate"))
        .args(["--strict", "--kubernetes-version", "1.30.0", "--quiet"])
        .arg(&rendered().file));
    assert!(!out.contains("ERROR"), "{out}");
    // kubernetes-validate has no schema for KEDA's kinds: they are checked against ours.
    let keda: Vec<&Value> = rendered().objects.iter().filter(|o| o["apiVersion"] == "keda.sh/v1alpha1").collect();
    assert_eq!(keda.len(), 6, "five ScaledObjects and their TriggerAuthentication");
    let script = "import json, sys, jsonschema\n\
                  schema = json.load(open(sys.argv[1]))\n\
                  for o in json.load(sys.stdin): jsonschema.validate(o, schema)";
    let mut child = Command::new(checks_tool("python"))
        .args(["-c", script])
        .arg(k8s_dir().join("schemas/keda.json"))
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    serde_json::to_writer(child.stdin.take().unwrap(), &keda).unwrap();
    assert!(child.wait().unwrap().success(), "KEDA objects do not match k8s/schemas/keda.json");
}

#[test]
fn checkov_finds_only_what_is_documented_as_accepted() {
    let out = Command::new(checks_tool("checkov"))
        .arg("-f")
        .arg(&rendered().file)
        .arg("--config-file")
        .arg(k8s_dir().join("checkov.yaml"))
        .args(["-o", "json"])
        .env("BC_SKIP_MAPPING", "TRUE")
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("checkov: {e}\n{}", String::from_utf8_lossy(&out.stderr)));
    let summary = &report["summary"];
    assert!(summary["passed"].as_u64().unwrap() > 1000, "{summary}");
    assert_eq!(summary["parsing_errors"], 0, "{summary}");
    let failed: Vec<String> = report["results"]["failed_checks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| format!("{} {} on {}", c["check_id"], c["check_name"], c["resource"]))
        .collect();
    assert!(failed.is_empty(), "checkov findings not accepted in k8s/checkov.yaml:\n{}", failed.join("\n"));
}

#[test]
fn the_seed_architecture_is_all_there() {
    for path in [
        "kustomization.yaml",
        "deployment/frontend/scanpro_frontend.yaml",
        "deployment/backend/scanpro_api.yaml",
        "deployment/backend/scanpro_worker.yaml",
        "deployment/database/postgres/postgres_deployment.yaml",
        "deployment/database/redis/redis_deployment.yaml",
        "deployment/services/libreoffice.yaml",
        "deployment/services/chromium.yaml",
        "deployment/services/ghostscript.yaml",
        "deployment/services/ocr/kustomization.yaml",
        "deployment/services/monitoring/prometheus_grafana.yaml",
    ] {
        assert!(k8s_dir().join(path).exists(), "k8s/{path}");
    }
    for (service, port) in [
        ("scanpro-api", 80),
        ("scanpro-frontend", 80),
        ("scanpro-postgresql", 5432),
        ("scanpro-redis", 6379),
        ("scanpro-libreoffice", 8997),
        ("scanpro-chromium", 80),
        ("scanpro-ghostscript", 80),
        ("scanpro-ocrmypdf", 80),
        ("scanpro-tesseract", 80),
    ] {
        assert_eq!(object("Service", service)["spec"]["ports"][0]["port"], port, "{service}");
    }
    let storage =
        |claim: &str| object("PersistentVolumeClaim", claim)["spec"]["resources"]["requests"]["storage"].clone();
    assert_eq!(storage("scanpro-files"), "70Gi", "uploads, conversions and compressions 20Gi each, OCR results 10Gi");
    assert_eq!(storage("scanpro-backups"), "50Gi");
    for claim in ["scanpro-files", "scanpro-backups"] {
        assert_eq!(object("PersistentVolumeClaim", claim)["spec"]["accessModes"][0], "ReadWriteMany");
    }
    let template =
        |set: &str| object("StatefulSet", set)["spec"]["volumeClaimTemplates"][0]["spec"]["resources"].clone();
    assert_eq!(template("scanpro-postgresql")["requests"]["storage"], "20Gi");
    assert_eq!(template("scanpro-redis")["requests"]["storage"], "5Gi");
    // Temporary files: each worker's and engine's own scratch, 10Gi.
    for (workload, _) in scanpro_containers() {
        let component = &workload["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"];
        if component == "worker" || component == "engine" {
            let volumes = pod_spec(workload).unwrap()["volumes"].as_array().unwrap();
            let scratch = volumes.iter().find(|v| v["name"] == "scratch").unwrap();
            assert_eq!(scratch["emptyDir"]["sizeLimit"], "10Gi", "{}", name(workload));
        }
    }
    let hosts: Vec<String> = objects("Ingress")
        .flat_map(|i| i["spec"]["rules"].as_array().unwrap())
        .map(|r| r["host"].to_string())
        .collect();
    assert_eq!(hosts, ["\"scanpro.cc\"", "\"www.scanpro.cc\"", "\"api.scanpro.cc\"", "\"grafana.scanpro.cc\""]);
    for ingress in objects("Ingress") {
        assert!(ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"].is_string());
        assert!(ingress["spec"]["tls"][0]["secretName"].is_string());
    }
    for hpa in ["scanpro-api", "scanpro-frontend"] {
        let metrics: Vec<&Value> = object("HorizontalPodAutoscaler", hpa)["spec"]["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| &m["resource"]["name"])
            .collect();
        assert_eq!(metrics, ["cpu", "memory"], "{hpa}");
    }
}

#[test]
fn every_pod_is_locked_down() {
    let deny = object("NetworkPolicy", "default-deny");
    assert_eq!(deny["spec"]["podSelector"], serde_json::json!({}));
    assert_eq!(deny["spec"]["policyTypes"], serde_json::json!(["Ingress", "Egress"]));
    for workload in &rendered().objects {
        let Some(spec) = pod_spec(workload) else { continue };
        let who = name(workload);
        assert_eq!(spec["automountServiceAccountToken"], false, "{who}");
        let account = spec["serviceAccountName"].as_str().unwrap_or_else(|| panic!("{who}: no service account"));
        assert_eq!(object("ServiceAccount", account)["automountServiceAccountToken"], false, "{account}");
        assert_eq!(spec["securityContext"]["runAsNonRoot"], true, "{who}");
        assert_eq!(spec["securityContext"]["seccompProfile"]["type"], "RuntimeDefault", "{who}");
        for container in spec["containers"].as_array().unwrap() {
            let context = &container["securityContext"];
            assert_eq!(context["readOnlyRootFilesystem"], true, "{who}");
            assert_eq!(context["allowPrivilegeEscalation"], false, "{who}");
            assert_eq!(context["capabilities"]["drop"], serde_json::json!(["ALL"]), "{who}");
            assert!(container["resources"]["limits"]["memory"].is_string(), "{who}: no memory limit");
            assert!(container["resources"]["requests"]["cpu"].is_string(), "{who}: no CPU request");
            let services = workload["kind"] == "Deployment" || workload["kind"] == "StatefulSet";
            if services {
                assert!(container["livenessProbe"].is_object() && container["readinessProbe"].is_object(), "{who}");
            }
            for variable in container["env"].as_array().into_iter().flatten() {
                assert!(variable["valueFrom"]["secretKeyRef"].is_null(), "{who}: a secret in the environment");
            }
        }
    }
    // Engine services may reach nothing but the cluster's DNS.
    let engines = object("NetworkPolicy", "scanpro-engines");
    assert_eq!(engines["spec"]["egress"], serde_json::json!([]));
    let ignored = std::fs::read_to_string(k8s_dir().join("../.gitignore")).unwrap();
    assert!(ignored.lines().any(|l| l == "/k8s/secrets/"), "the generated secrets stay out of git");
}

#[test]
fn each_container_runs_a_real_role_with_real_settings() {
    for (workload, container) in scanpro_containers() {
        let who = name(workload);
        let args = strings(&container["args"]);
        // clap parses every argument before `--help`: an unknown role, flag or value fails here.
        run(Command::new(env!("CARGO_BIN_EXE_scanpro")).args(&args).arg("--help"));

        let env = environment(container);
        let scratch = tempfile::tempdir().unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_scanpro"));
        command.arg("config").env_clear().env("PATH", std::env::var("PATH").unwrap());
        for (key, value) in &env {
            if key == "SCANPRO_CONFIG" {
                let file = scratch.path().join("scanpro.toml");
                std::fs::write(&file, mounted_config(workload, container, value)).unwrap();
                command.env(key, file);
            } else {
                command.env(key, value);
            }
        }
        let printed = run(&mut command);
        let effective: toml::Table = toml::from_str(&printed).unwrap_or_else(|e| panic!("{who}: {e}\n{printed}"));
        for (key, value) in &env {
            let setting = match key.as_str() {
                "SCANPRO_CONFIG" => continue,
                "DATABASE_URL" | "REDIS_URL" | "STORAGE_URL" => key.to_lowercase(),
                _ => key
                    .strip_prefix("SCANPRO_")
                    .unwrap_or_else(|| panic!("{who}: {key} is not a ScanPro setting"))
                    .to_lowercase(),
            };
            let read = effective.get(&setting).unwrap_or_else(|| panic!("{who}: {key} is not a setting ({setting})"));
            let shown = match read {
                toml::Value::String(s) => s.clone(),
                toml::Value::Array(items) => {
                    format!("[{}]", items.iter().map(|i| i.as_str().unwrap()).collect::<Vec<_>>().join(", "))
                }
                other => other.to_string(),
            };
            assert_eq!(&shown, value, "{who}: {key} was not read as given");
        }
        if env.contains_key("SCANPRO_CONFIG") {
            let secrets: toml::Table =
                toml::from_str(&mounted_config(workload, container, &env["SCANPRO_CONFIG"])).unwrap();
            for key in secrets.keys() {
                assert!(effective.contains_key(key), "{who}: the configuration file's {key} is not a setting");
            }
        }
    }
}

/// The port a container listens on for `setting` (its `--listen` flag or an `…_LISTEN` variable).
fn listen_port(args: &[String], env: &BTreeMap<String, String>, setting: &str) -> Option<u16> {
    let address = match setting {
        "--listen" => args.iter().position(|a| a == "--listen").map(|i| args[i + 1].clone()),
        variable => env.get(variable).cloned(),
    }?;
    address.rsplit_once(':').map(|(_, port)| port.parse().unwrap())
}

fn container_port(container: &Value, port: &Value) -> u16 {
    if let Some(number) = port.as_u64() {
        return u16::try_from(number).unwrap();
    }
    let port_name = port.as_str().unwrap();
    let found = container["ports"].as_array().unwrap().iter().find(|p| p["name"] == port_name);
    u16::try_from(found.unwrap_or_else(|| panic!("no port named {port_name}"))["containerPort"].as_u64().unwrap())
        .unwrap()
}

/// A role started here as its manifest starts it, on free loopback ports; killed on drop.
struct Role {
    child: Child,
    /// Manifest port → the port it listens on here.
    ports: BTreeMap<u16, u16>,
    _scratch: tempfile::TempDir,
}

impl Drop for Role {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the roles share here: PostgreSQL, Redis, and the shared volumes (`/srv/scanpro`: the
/// blob store and the backups).
struct Backends {
    database_url: String,
    redis: RedisServer,
    volumes: tempfile::TempDir,
}

impl Backends {
    /// The Secret's configuration file, pointed at this machine's backends.
    fn local_config(&self, from_secret: &str) -> String {
        let mut config: toml::Table = toml::from_str(from_secret).unwrap();
        if config.contains_key("database_url") {
            config.insert("database_url".into(), self.database_url.clone().into());
            config.insert("redis_url".into(), self.redis.url().into());
        }
        toml::to_string(&config).unwrap()
    }

    /// Starts `container` of `workload` here: the shared volumes under one directory for all
    /// roles, its scratch (`/var/lib/scanpro`) its own.
    fn start(&self, workload: &Value, container: &Value) -> Role {
        let scratch = tempfile::tempdir().unwrap();
        let local_path = |path: &str| {
            path.replace("/srv/scanpro", &format!("{}/srv/scanpro", self.volumes.path().display()))
                .replace("/var/lib/scanpro", &format!("{}/var/lib/scanpro", scratch.path().display()))
        };
        let mut ports = BTreeMap::new();
        let mut localise = |address: &str| {
            let (_, port) = address.rsplit_once(':').unwrap();
            let here = scanpro_testkit::free_port();
            ports.insert(port.parse().unwrap(), here);
            format!("127.0.0.1:{here}")
        };
        let args: Vec<String> = strings(&container["args"])
            .iter()
            .map(|arg| if arg.starts_with("0.0.0.0:") { localise(arg) } else { local_path(arg) })
            .collect();
        let mut command = Command::new(env!("CARGO_BIN_EXE_scanpro"));
        command.args(&args).current_dir(scratch.path()).env("SCANPRO_LOG_LEVEL", "warn").stdout(Stdio::null());
        for (key, value) in environment(container) {
            let value = if key == "SCANPRO_CONFIG" {
                let file = scratch.path().join("scanpro.toml");
                std::fs::write(&file, self.local_config(&mounted_config(workload, container, &value))).unwrap();
                file.display().to_string()
            } else if value.starts_with("0.0.0.0:") {
                localise(&value)
            } else {
                local_path(&value)
            };
            command.env(key, value);
        }
        let child = command.spawn().unwrap();
        Role { child, ports, _scratch: scratch }
    }
}

/// Waits for `url` to answer `200`, with the engine token where one is given.
async fn answers(url: &str, token: Option<&str>) -> Result<(), String> {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut request = http.get(url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let last = match request.send().await {
            Ok(response) if response.status() == 200 => return Ok(()),
            Ok(response) => format!("{}", response.status()),
            Err(e) => e.to_string(),
        };
        if Instant::now() > deadline {
            return Err(format!("{url}: {last}"));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The ports Prometheus scrapes, by headless Service.
fn scraped_ports() -> BTreeMap<String, u16> {
    let config = data_of("ConfigMap", "scanpro-prometheus", "prometheus.yml");
    let mut ports = BTreeMap::new();
    let mut service = None;
    for line in config.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix("- names: [\"") {
            service = name.split('.').next().map(str::to_owned);
        }
        if let (Some(port), Some(name)) = (line.strip_prefix("port: "), &service) {
            ports.insert(name.clone(), port.parse().unwrap());
        }
    }
    ports
}

#[tokio::test(flavor = "multi_thread")]
async fn each_role_serves_its_probes_ports_and_queues() {
    let backends = Backends {
        database_url: empty_postgres_database().await,
        redis: RedisServer::start(),
        volumes: tempfile::tempdir().unwrap(),
    };
    let token = toml::from_str::<toml::Table>(&data_of("Secret", "scanpro-engine-secrets", "scanpro.toml")).unwrap()
        ["engine_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let scraped = scraped_ports();

    // The migrate Job first: the API and the workers wait for the schema.
    let migrate = object("Job", "scanpro-migrate");
    let (_, container) = scanpro_containers().into_iter().find(|(w, _)| *w == migrate).unwrap();
    let mut role = backends.start(migrate, container);
    assert!(role.child.wait().unwrap().success(), "scanpro-migrate failed");

    let mut checked = Vec::new();
    for (workload, container) in scanpro_containers() {
        if workload["kind"] != "Deployment" {
            continue;
        }
        let who = name(workload);
        let role = backends.start(workload, container);
        let args = strings(&container["args"]);
        let env = environment(container);
        let listen = listen_port(&args, &env, "--listen").unwrap_or_else(|| panic!("{who}: no --listen"));
        let engine = args[0] == "engine";
        for probe in ["startupProbe", "livenessProbe", "readinessProbe"] {
            let get = &container[probe]["httpGet"];
            let port = container_port(container, &get["port"]);
            assert_eq!(port, listen, "{who}: {probe} on {port}, but the role listens on {listen}");
            let url = format!("http://127.0.0.1:{}{}", role.ports[&port], get["path"].as_str().unwrap());
            answers(&url, None).await.unwrap_or_else(|e| panic!("{who}: {probe}: {e}"));
        }
        // Every Service in front of the pods reaches a port the role listens on.
        let labels = workload["spec"]["template"]["metadata"]["labels"].as_object().unwrap();
        for service in objects("Service") {
            let selector = service["spec"]["selector"].as_object().unwrap();
            if !selector.iter().all(|(k, v)| labels.get(k) == Some(v)) {
                continue;
            }
            for port in service["spec"]["ports"].as_array().unwrap() {
                let target = container_port(container, &port["targetPort"]);
                assert!(role.ports.contains_key(&target), "{who}: Service {} targets {target}", name(service));
                let path = if scraped.contains_key(name(service)) { "/metrics" } else { "/healthz" };
                let url = format!("http://127.0.0.1:{}{path}", role.ports[&target]);
                answers(&url, engine.then_some(token.as_str()))
                    .await
                    .unwrap_or_else(|e| panic!("{who}: Service {}: {e}", name(service)));
                if let Some(scraped_port) = scraped.get(name(service)) {
                    assert_eq!(*scraped_port, target, "Prometheus scrapes {} on another port", name(service));
                }
            }
        }
        if args[0] == "worker" {
            assert_scaled_on_the_stream_it_reads(who, &backends.redis).await;
        }
        checked.push(who.to_owned());
        drop(role);
    }
    assert_eq!(checked.len(), 11, "api, frontend, 5 worker classes, 4 engines: {checked:?}");

    // The backup CronJobs run as written, against the migrated database and an empty store, and
    // the restore CronJobs put those backups back.
    for cronjob in
        ["scanpro-backup-database", "scanpro-backup-files", "scanpro-restore-database", "scanpro-restore-files"]
    {
        let workload = object("CronJob", cronjob);
        let (_, container) = scanpro_containers().into_iter().find(|(w, _)| *w == workload).unwrap();
        let mut role = backends.start(workload, container);
        assert!(role.child.wait().unwrap().success(), "{cronjob} failed");
    }
}

/// The ScaledObject of a worker Deployment watches the stream of the class it runs, in the
/// consumer group the worker reads with.
async fn assert_scaled_on_the_stream_it_reads(worker: &str, redis: &RedisServer) {
    let scaled = object("ScaledObject", worker);
    assert_eq!(scaled["spec"]["scaleTargetRef"]["name"], worker);
    let triggers: Vec<&Value> =
        scaled["spec"]["triggers"].as_array().unwrap().iter().filter(|t| t["type"] == "redis-streams").collect();
    assert_eq!(triggers.len(), 2, "{worker}: on lag and on pending entries");
    for trigger in triggers {
        let stream = trigger["metadata"]["stream"].as_str().unwrap();
        let group = trigger["metadata"]["consumerGroup"].as_str().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = Command::new("redis-cli")
                .args(["-p", &redis.port.to_string(), "XINFO", "GROUPS", stream])
                .output()
                .expect("redis-cli");
            let groups = String::from_utf8_lossy(&out.stdout).into_owned();
            if groups.lines().any(|line| line.trim() == group) {
                break;
            }
            assert!(Instant::now() < deadline, "{worker}: no group {group} on {stream}: {groups}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
