/*
 * Chat widget: the satisfaction rating asked for once the conversation is closed
 * (scores 1 to 5 and an optional comment, sent as `rate` on the socket).
 */
import { el, isObject, randomId } from "../common/util.js";
import { ACK_TIMEOUT_MS, MAX_COMMENT, TEXT } from "./config.js";

export var rating = {
  // The satisfaction form shown once the conversation is closed: five buttons, a comment, «Enviar».
  buildRating: function () {
    var self = this;
    var form = el("form", "pl-rating");
    form.setAttribute("novalidate", "");
    form.hidden = true;
    var fieldset = el("fieldset", "pl-rating-set");
    var legend = el("legend", "pl-rating-question", TEXT.rateQuestion);
    fieldset.appendChild(legend);
    fieldset.appendChild(el("p", "pl-rating-hint", TEXT.rateHint));
    var row = el("div", "pl-rating-scores");
    row.setAttribute("role", "group");
    row.setAttribute("aria-label", TEXT.rateHint);
    var buttons = [];
    for (var n = 1; n <= 5; n++) {
      (function (score) {
        var b = el("button", "pl-rate", String(score));
        b.type = "button";
        b.setAttribute("data-score", String(score));
        b.setAttribute("aria-pressed", "false");
        b.addEventListener("click", function () {
          self.ratingScore = score;
          buttons.forEach(function (x) {
            x.setAttribute("aria-pressed", x === b ? "true" : "false");
          });
          self.ratingErrorEl.hidden = true;
        });
        buttons.push(b);
        row.appendChild(b);
      })(n);
    }
    fieldset.appendChild(row);
    var commentId = "pl-rate-comment-" + randomId().slice(0, 8);
    var label = el("label", "pl-rating-label", TEXT.rateComment);
    label.setAttribute("for", commentId);
    var comment = el("textarea", "pl-rating-comment");
    comment.id = commentId;
    comment.rows = 2;
    comment.setAttribute("maxlength", String(MAX_COMMENT));
    fieldset.appendChild(label);
    fieldset.appendChild(comment);
    var send = el("button", "pl-rating-send", TEXT.rateSend);
    send.type = "submit";
    fieldset.appendChild(send);
    var error = el("p", "pl-rating-error");
    error.setAttribute("role", "alert");
    error.hidden = true;
    fieldset.appendChild(error);
    form.appendChild(fieldset);
    var thanks = el("p", "pl-rating-thanks", TEXT.rateThanks);
    thanks.setAttribute("role", "status");
    thanks.hidden = true;
    form.appendChild(thanks);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      self.submitRating();
    });
    this.ratingEl = form;
    this.ratingSetEl = fieldset;
    this.ratingButtons = buttons;
    this.ratingCommentEl = comment;
    this.ratingSendEl = send;
    this.ratingErrorEl = error;
    this.ratingThanksEl = thanks;
    return form;
  },

  requestRating: function () {
    if (this.rating === "requested") return;
    this.rating = "requested";
    this.ratingScore = null;
    this.ratingCommentEl.value = "";
    this.ratingErrorEl.hidden = true;
    this.ratingButtons.forEach(function (b) {
      b.setAttribute("aria-pressed", "false");
    });
  },

  submitRating: function () {
    var self = this;
    var error = this.ratingErrorEl;
    var comment = this.ratingCommentEl.value.trim();
    error.hidden = true;
    if (!this.ratingScore) {
      error.textContent = TEXT.rateChoose;
      error.hidden = false;
      return;
    }
    if (comment.length > MAX_COMMENT) {
      error.textContent = TEXT.commentTooLong;
      error.hidden = false;
      return;
    }
    if (!this.socket || !this.socket.connected || !this.sessionReady) {
      error.textContent = TEXT.noConnection;
      error.hidden = false;
      return;
    }
    var data = { score: this.ratingScore };
    if (comment) data.comment = comment;
    this.ratingSendEl.disabled = true;
    this.socket.timeout(ACK_TIMEOUT_MS).emit("rate", data, function (err, resp) {
      if (self.destroyed) return;
      self.ratingSendEl.disabled = false;
      if (!err && isObject(resp) && resp.rated) {
        self.rating = "done";
        self.renderState();
        return;
      }
      error.textContent = err ? TEXT.noConnection : isObject(resp) && resp.error ? String(resp.error) : TEXT.failed;
      error.hidden = false;
    });
  },
};
