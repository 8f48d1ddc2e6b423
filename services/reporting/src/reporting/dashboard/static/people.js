// CadreCare people page: a board's administrator lists, creates, disables and re-enables the users and HIS
// clients of its own scope through the gateway (/api/v1/gateway/users, /his-clients, /roles). The gateway
// decides what is in scope; the page only shows what it answers. A new or rotated client secret is shown
// once, in a box the administrator dismisses, and kept nowhere (not in storage, not in the DOM after).
(() => {
  "use strict";
  const params = new URLSearchParams(location.search);
  const API = (params.get("api") || (location.pathname.includes("/api/v1/") ? location.pathname.split("/api/v1/")[0] + "/api/v1" : "/api/v1")).replace(/\/$/, "");

  const TEXT = {
    vi: {
      title: "Người dùng và bệnh viện của Ban", dashboard: "Bảng điều khiển", signin: "Đăng nhập", logout: "Đăng xuất",
      username: "Tên đăng nhập", password: "Mật khẩu", displayName: "Họ tên", role: "Vai trò", unit: "Đơn vị",
      users: "Người dùng", clients: "Hệ thống thông tin bệnh viện (HIS)", clientId: "Mã ứng dụng", facility: "Mã cơ sở KCB",
      createUser: "Tạo người dùng", createClient: "Đăng ký bệnh viện", reason: "Lý do (khi khóa)", status: "Trạng thái",
      actions: "Thao tác", disable: "Khóa", enable: "Mở khóa", unlock: "Bỏ tạm khóa", rotate: "Cấp mật khẩu mới",
      active: "Đang hoạt động", disabled: "Đã khóa", locked: "Tạm khóa (đăng nhập sai)", source: "Nguồn",
      secretOnce: "Mật khẩu ứng dụng của bệnh viện – chỉ hiển thị một lần, hãy lưu lại ngay:", secretDone: "Đã lưu",
      wrongLogin: "Sai tên đăng nhập hoặc mật khẩu", notAdmin: "Tài khoản này không quản trị người dùng",
      needReason: "Hãy nhập lý do khóa", lang: "English", none: "Không có",
    },
    en: {
      title: "The board's people and hospitals", dashboard: "Dashboard", signin: "Sign in", logout: "Sign out",
      username: "Username", password: "Password", displayName: "Name", role: "Role", unit: "Unit",
      users: "Users", clients: "Hospital information systems (HIS)", clientId: "Client id", facility: "Facility code",
      createUser: "Create user", createClient: "Register hospital", reason: "Reason (to disable)", status: "Status",
      actions: "Actions", disable: "Disable", enable: "Enable", unlock: "Unlock", rotate: "New secret",
      active: "Active", disabled: "Disabled", locked: "Locked (failed sign-ins)", source: "Source",
      secretOnce: "The hospital's client secret – shown this once only, store it now:", secretDone: "Stored",
      wrongLogin: "Wrong username or password", notAdmin: "This account does not administer people",
      needReason: "Enter the reason first", lang: "Tiếng Việt", none: "None",
    },
  };
  let lang = sessionStorage.getItem("cc-lang") || "vi";
  let shown = { users: [], clients: [] };
  const $ = (id) => document.getElementById(id);
  const t = (key) => TEXT[lang][key] ?? key;
  const token = () => sessionStorage.getItem("cc-token");

  function applyLanguage() {
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    $("lang").textContent = t("lang");
    render();
  }

  function problemText(problem) {
    const fields = (problem.errors || []).map((e) => e.loc.filter((p) => p !== "body").join(".") + ": " + e.msg);
    return problem.detail + (fields.length ? " (" + fields.join("; ") + ")" : "");
  }

  async function api(method, path, body) {
    const headers = { authorization: "Bearer " + token() };
    if (body !== undefined) headers["content-type"] = "application/json";
    const answer = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (answer.status === 401) { signOut(); throw new Error(t("signin")); }
    const data = await answer.json().catch(() => ({ detail: answer.statusText }));
    if (!answer.ok) throw new Error(answer.status === 403 && !data.errors?.length ? t("notAdmin") + ": " + data.detail : problemText(data));
    return data;
  }

  async function attempt(work) {
    $("message").textContent = "";
    try { await work(); } catch (error) { $("message").textContent = error.message; }
  }

  async function signIn(event) {
    event.preventDefault();
    $("login-error").textContent = "";
    const body = new URLSearchParams({ grant_type: "password", username: $("username").value, password: $("password").value });
    const answer = await fetch(API + "/auth/token", { method: "POST", body });
    $("password").value = "";
    if (!answer.ok) { $("login-error").textContent = t("wrongLogin"); return; }
    sessionStorage.setItem("cc-token", (await answer.json()).access_token);
    sessionStorage.setItem("cc-user", $("username").value);
    await start();
  }

  function signOut() {
    sessionStorage.removeItem("cc-token");
    hideSecret();
    $("people").hidden = true; $("signin").hidden = false; $("logout").hidden = true; $("who").textContent = "";
  }

  async function start() {
    $("signin").hidden = true; $("people").hidden = false; $("logout").hidden = false;
    $("who").textContent = sessionStorage.getItem("cc-user") || "";
    await attempt(async () => {
      const roles = await api("GET", "/gateway/roles");
      $("new-role").replaceChildren(...roles.map((r) => new Option(r.name, r.name)));
      await load();
    });
  }

  async function load() {
    shown = { users: await api("GET", "/gateway/users"), clients: await api("GET", "/gateway/his-clients") };
    render();
  }

  function button(label, action) {
    const b = document.createElement("button");
    b.type = "button"; b.textContent = t(label); b.dataset.action = label;
    b.addEventListener("click", () => attempt(action));
    return b;
  }

  function row(cells, status, buttons) {
    const tr = document.createElement("tr");
    cells.forEach((c, i) => {
      const td = document.createElement("td");
      td.textContent = c ?? "";
      if (i === cells.length - 1) td.className = "status-" + status;
      tr.append(td);
    });
    const td = document.createElement("td");
    td.append(...buttons);
    tr.append(td);
    return tr;
  }

  function head(id, labels) {
    const tr = document.createElement("tr");
    labels.forEach((l) => { const th = document.createElement("th"); th.textContent = t(l); tr.append(th); });
    $(id).querySelector("thead").replaceChildren(tr);
  }

  function render() {
    if ($("people").hidden) return;
    head("users", ["username", "displayName", "role", "unit", "source", "status", "actions"]);
    head("clients", ["clientId", "displayName", "facility", "unit", "status", "actions"]);
    $("users").querySelector("tbody").replaceChildren(...shown.users.map((u) => {
      const path = "/gateway/users/" + encodeURIComponent(u.name);
      const buttons = [u.status === "disabled" ? button("enable", () => change(path + "/enable")) : button("disable", () => disable(path))];
      if (u.status === "locked") buttons.push(button("unlock", () => change(path + "/unlock")));
      const tr = row([u.name, u.display_name, u.role || "–", u.unit_path, u.source, t(u.status)], u.status, buttons);
      tr.dataset.name = u.name;
      return tr;
    }));
    $("clients").querySelector("tbody").replaceChildren(...shown.clients.map((c) => {
      const path = "/gateway/his-clients/" + encodeURIComponent(c.name);
      const buttons = [
        c.status === "disabled" ? button("enable", () => change(path + "/enable")) : button("disable", () => disable(path)),
        button("rotate", async () => showSecret(await api("POST", path + "/rotate-secret"))),
      ];
      const tr = row([c.name, c.display_name, c.facility, c.unit_path, t(c.status)], c.status, buttons);
      tr.dataset.name = c.name;
      return tr;
    }));
  }

  async function change(path) { await api("POST", path); await load(); }

  async function disable(path) {
    const reason = $("reason").value.trim();
    if (!reason) throw new Error(t("needReason"));
    await api("POST", path + "/disable", { reason });
    $("reason").value = "";
    await load();
  }

  function showSecret(answer) {
    $("secret-client").textContent = answer.client.name;
    $("secret").textContent = answer.client_secret;
    $("secret-box").hidden = false;
    return load();
  }

  function hideSecret() {
    $("secret").textContent = ""; $("secret-client").textContent = "";
    $("secret-box").hidden = true;
  }

  async function createUser(event) {
    event.preventDefault();
    await attempt(async () => {
      const unit = $("new-unit").value.trim();
      await api("POST", "/gateway/users", {
        username: $("new-username").value.trim(), display_name: $("new-display-name").value.trim(),
        password: $("new-password").value, role: $("new-role").value, unit: unit || null,
      });
      $("user-form").reset();
      await load();
    });
  }

  async function createClient(event) {
    event.preventDefault();
    await attempt(async () => {
      const answer = await api("POST", "/gateway/his-clients", {
        client_id: $("new-client-id").value.trim(), display_name: $("new-client-name").value.trim(),
        facility: $("new-facility").value.trim(), unit: $("new-client-unit").value.trim(),
      });
      $("client-form").reset();
      await showSecret(answer);
    });
  }

  $("login-form").addEventListener("submit", signIn);
  $("login").disabled = false;
  $("logout").addEventListener("click", signOut);
  $("user-form").addEventListener("submit", createUser);
  $("client-form").addEventListener("submit", createClient);
  $("secret-done").addEventListener("click", hideSecret);
  $("lang").addEventListener("click", () => { lang = lang === "vi" ? "en" : "vi"; sessionStorage.setItem("cc-lang", lang); applyLanguage(); });
  applyLanguage();
  if (token()) start();
})();
